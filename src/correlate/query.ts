import type Database from 'better-sqlite3';
import type { Dict } from './writer.js';
import { STATE_ACTIVE } from './writer.js';

/** How many of a malware's `indicates` edges are looked at, per unit of the cap, to find hash siblings. */
const SIBLING_SCAN = 50;

/** One link of a path, in the direction the link holds (not the direction it was walked). */
export interface PathStep {
  from: string;
  /** A relationship type (`indicates`, `uses`, …), `object-ref`, `sighting-of`, `observed-data`, `resolves-to`, or a derivation. */
  kind: string;
  to: string;
  /** True for links stixgate computed (same-value, inside-cidr, on-domain, resolves-to, shares-malware). */
  derived?: true;
  /** The relationship object stating the link, or the malware two files share, or the value the link holds through. */
  via?: string;
}

/** A step by node numbers, turned into ids once the walk is done. */
interface RawStep {
  from: number;
  kind: number | string;
  to: number;
  derived?: true;
  viaNode?: number;
  viaValue?: string;
}

interface Neighbour {
  m: number;
  type: number;
  step: RawStep;
}

export interface WalkOptions {
  depth: 1 | 2;
  limit: number;
  /** Only objects of these types are returned (all types are walked through). */
  types?: readonly string[];
}

export interface WalkResult {
  start: number;
  found: { n: number; type: number; path: RawStep[] }[];
  /** True when a fan-out cap or the limit cut something off. */
  capped: boolean;
}

/**
 * Breadth-first walk over explicit edges and derived links. Every expansion is bounded: explicit
 * neighbours by the limit, holders of a value and links of a value by the fan-out cap; so a query
 * costs O(limit × cap) rows at most, whatever the size of the index.
 */
export class Walker {
  private readonly s;

  constructor(
    db: Database.Database,
    private readonly dict: Dict,
    private readonly cap: number,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      nodeById: p('SELECT n, type FROM node WHERE id = ?'),
      nodeRow: p('SELECT id, type, state FROM node WHERE n = ?'),
      out: p(`SELECT e.kind AS kind, e.b AS m, e.owner AS owner, x.type AS type FROM edge e JOIN node x ON x.n = e.b
        WHERE e.a = ? AND x.state = ${STATE_ACTIVE} LIMIT ?`),
      in: p(`SELECT e.kind AS kind, e.a AS m, e.owner AS owner, x.type AS type FROM edge e JOIN node x ON x.n = e.a
        WHERE e.b = ? AND x.state = ${STATE_ACTIVE} LIMIT ?`),
      values: p('SELECT v.v AS v, v.key AS key, v.capped AS capped FROM hold h JOIN val v ON v.v = h.v WHERE h.n = ?'),
      holders: p('SELECT h.n AS m, x.type AS type FROM hold h JOIN node x ON x.n = h.n WHERE h.v = ? LIMIT ?'),
      linksOut: p('SELECT l.kind AS kind, l.b AS w, v.key AS key FROM vlink l JOIN val v ON v.v = l.b WHERE l.a = ?'),
      linksIn: p('SELECT l.kind AS kind, l.a AS w FROM vlink l WHERE l.b = ?'),
      // hash indicators of a malware: at most SIBLING_SCAN × cap of its indicates edges are looked at
      siblings:
        p(`SELECT c.a AS m, x.type AS type FROM (SELECT a FROM edge WHERE b = ? AND kind = ? AND a <> ? LIMIT ?) c
        JOIN node x ON x.n = c.a
        WHERE x.state = ${STATE_ACTIVE} AND EXISTS (SELECT 1 FROM hold h JOIN val v ON v.v = h.v WHERE h.n = c.a AND v.key >= 'file:' AND v.key < 'file;')
        LIMIT ?`),
      indicatesCount: p('SELECT count(*) FROM (SELECT 1 FROM edge WHERE b = ? AND kind = ? LIMIT ?)').pluck(),
    };
  }

  nodeOf(id: string): { n: number; type: number } | undefined {
    return this.s.nodeById.get(id) as { n: number; type: number } | undefined;
  }

  node(n: number): { id: string; type: number; state: number } {
    return this.s.nodeRow.get(n) as { id: string; type: number; state: number };
  }

  walk(id: string, o: WalkOptions): WalkResult | undefined {
    const start = this.nodeOf(id);
    if (!start) return undefined;
    const typeIds = o.types
      ? new Set(o.types.map((t) => this.dict.peek(t)).filter((t): t is number => t !== undefined))
      : undefined;
    const perNode = Math.max(o.limit, this.cap) + 1;
    const seen = new Set<number>([start.n]);
    const found: WalkResult['found'] = [];
    let capped = false;
    let matched = 0;
    let frontier: { n: number; path: RawStep[] }[] = [{ n: start.n, path: [] }];
    for (let d = 1; d <= o.depth && frontier.length > 0; d++) {
      const next: typeof frontier = [];
      for (const f of frontier) {
        const r = this.neighbours(f.n, perNode);
        if (r.capped) capped = true;
        for (const nb of r.list) {
          if (seen.has(nb.m)) continue;
          seen.add(nb.m);
          const path = [...f.path, nb.step];
          next.push({ n: nb.m, path });
          if (typeIds && !typeIds.has(nb.type)) continue;
          if (matched === o.limit) return { start: start.n, found, capped: true };
          matched++;
          found.push({ n: nb.m, type: nb.type, path });
        }
      }
      frontier = next;
    }
    return { start: start.n, found, capped };
  }

  /** The bounded neighbourhood of one node. */
  neighbours(n: number, perNode: number): { list: Neighbour[]; capped: boolean } {
    const list: Neighbour[] = [];
    let capped = false;
    const out = this.s.out.all(n, perNode) as { kind: number; m: number; owner: number; type: number }[];
    const inn = this.s.in.all(n, perNode) as { kind: number; m: number; owner: number; type: number }[];
    if (out.length === perNode || inn.length === perNode) capped = true;
    for (const e of out)
      list.push({
        m: e.m,
        type: e.type,
        step: { from: n, kind: e.kind, to: e.m, viaNode: e.owner !== n ? e.owner : undefined },
      });
    for (const e of inn)
      list.push({
        m: e.m,
        type: e.type,
        step: { from: e.m, kind: e.kind, to: n, viaNode: e.owner !== e.m ? e.owner : undefined },
      });

    const probe = this.cap + 1;
    const values = this.s.values.all(n) as { v: number; key: string; capped: number }[];
    let holdsFile = false;
    for (const val of values) {
      if (val.capped) capped = true;
      if (val.key.startsWith('file:')) holdsFile = true;
      const peers = this.s.holders.all(val.v, probe) as { m: number; type: number }[];
      if (peers.length === probe) capped = true;
      for (const p of peers.filter((x) => x.m !== n).slice(0, this.cap)) {
        list.push({
          m: p.m,
          type: p.type,
          step: { from: n, kind: 'same-value', to: p.m, derived: true, viaValue: val.key },
        });
      }
      for (const l of this.s.linksOut.all(val.v) as { kind: number; w: number; key: string }[]) {
        const hs = this.s.holders.all(l.w, probe) as { m: number; type: number }[];
        if (hs.length === probe) capped = true;
        for (const h of hs.slice(0, this.cap))
          if (h.m !== n)
            list.push({
              m: h.m,
              type: h.type,
              step: { from: n, kind: l.kind, to: h.m, derived: true, viaValue: l.key },
            });
      }
      for (const l of this.s.linksIn.all(val.v) as { kind: number; w: number }[]) {
        const hs = this.s.holders.all(l.w, probe) as { m: number; type: number }[];
        if (hs.length === probe) capped = true;
        for (const h of hs.slice(0, this.cap))
          if (h.m !== n)
            list.push({
              m: h.m,
              type: h.type,
              step: { from: h.m, kind: l.kind, to: n, derived: true, viaValue: val.key },
            });
      }
    }

    // files (hash indicators) that indicate the same malware are siblings
    const indicates = this.dict.peek('indicates');
    const malware = this.dict.peek('malware');
    if (holdsFile && indicates !== undefined && malware !== undefined) {
      for (const e of out) {
        if (e.kind !== indicates || e.type !== malware) continue;
        const scan = SIBLING_SCAN * this.cap;
        const sibs = this.s.siblings.all(e.m, indicates, n, scan, probe) as { m: number; type: number }[];
        if (sibs.length === probe || (this.s.indicatesCount.get(e.m, indicates, scan + 1) as number) > scan)
          capped = true;
        for (const s of sibs.slice(0, this.cap))
          list.push({
            m: s.m,
            type: s.type,
            step: { from: n, kind: 'shares-malware', to: s.m, derived: true, viaNode: e.m },
          });
      }
    }
    return { list, capped };
  }

  /** Turns a raw path into ids and names. */
  steps(path: RawStep[], idOf: (n: number) => string): PathStep[] {
    return path.map((s) => {
      const step: PathStep = {
        from: idOf(s.from),
        kind: typeof s.kind === 'number' ? this.dict.name(s.kind) : s.kind,
        to: idOf(s.to),
      };
      if (s.derived) step.derived = true;
      if (s.viaNode !== undefined) step.via = idOf(s.viaNode);
      else if (s.viaValue !== undefined) step.via = s.viaValue;
      return step;
    });
  }
}

export type { RawStep };
