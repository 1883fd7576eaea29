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

/** An edge to an active neighbour. */
export interface EdgeRow {
  kind: number;
  m: number;
  owner: number;
  type: number;
}

/**
 * What a walk reads from an index: the SQLite file (SqliteWalkSource) or the shared links index
 * on OpenSearch (opensearch-source.ts). Both hold the same rows; every list comes in the order
 * of the SQLite index it names, so both answer a walk identically.
 */
export interface WalkSource {
  nodeOf(id: string): Promise<{ n: number; type: number } | undefined>;
  /** Ids of nodes by number. */
  ids(ns: readonly number[]): Promise<Map<number, string>>;
  /** Edges from `n` to active nodes, by (kind, b, owner), at most `limit`. */
  out(n: number, limit: number): Promise<EdgeRow[]>;
  /** Edges to `n` from active nodes, by (a, kind, owner), at most `limit`. */
  in(n: number, limit: number): Promise<EdgeRow[]>;
  /** The values `n` holds, by value number. */
  values(n: number): Promise<{ v: number; key: string; capped: number }[]>;
  /** Holders of value `v` by node number, at most `limit`. */
  holders(v: number, limit: number): Promise<{ m: number; type: number }[]>;
  /** Derived links from value `v`, by (kind, b, owner), with the other value's key. */
  linksOut(v: number): Promise<{ kind: number; w: number; key: string }[]>;
  /** Derived links to value `v`, by (a, kind, owner). */
  linksIn(v: number): Promise<{ kind: number; w: number }[]>;
  /**
   * Active nodes holding a file value among the first `scan` sources (by node number, other than
   * `self`) of `kind` edges into `target`, at most `limit`.
   */
  siblings(
    target: number,
    kind: number,
    self: number,
    scan: number,
    limit: number,
  ): Promise<{ m: number; type: number }[]>;
  /** The number of `kind` edges into `target`, counting at most `limit`. */
  inCount(target: number, kind: number, limit: number): Promise<number>;
  /** Makes sure `name` knows these dictionary ids (an index written meanwhile may have added some). */
  knowNames?(ids: readonly number[]): Promise<void>;
  /** The dictionary id of a type or link kind, if known. */
  peek(name: string): number | undefined;
  name(id: number): string;
}

/** The walk's reads on the SQLite file. */
export class SqliteWalkSource implements WalkSource {
  private readonly s;

  constructor(
    db: Database.Database,
    private readonly dict: Dict,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      nodeById: p('SELECT n, type FROM node WHERE id = ?'),
      idOf: p('SELECT id FROM node WHERE n = ?').pluck(),
      out: p(`SELECT e.kind AS kind, e.b AS m, e.owner AS owner, x.type AS type FROM edge e JOIN node x ON x.n = e.b
        WHERE e.a = ? AND x.state = ${STATE_ACTIVE} ORDER BY e.kind, e.b, e.owner LIMIT ?`),
      in: p(`SELECT e.kind AS kind, e.a AS m, e.owner AS owner, x.type AS type FROM edge e JOIN node x ON x.n = e.a
        WHERE e.b = ? AND x.state = ${STATE_ACTIVE} ORDER BY e.a, e.kind, e.owner LIMIT ?`),
      values: p(
        'SELECT v.v AS v, v.key AS key, v.capped AS capped FROM hold h JOIN val v ON v.v = h.v WHERE h.n = ? ORDER BY h.v',
      ),
      holders: p(
        'SELECT h.n AS m, x.type AS type FROM hold h JOIN node x ON x.n = h.n WHERE h.v = ? ORDER BY h.n LIMIT ?',
      ),
      linksOut: p(
        'SELECT l.kind AS kind, l.b AS w, v.key AS key FROM vlink l JOIN val v ON v.v = l.b WHERE l.a = ? ORDER BY l.kind, l.b, l.owner',
      ),
      linksIn: p('SELECT l.kind AS kind, l.a AS w FROM vlink l WHERE l.b = ? ORDER BY l.a, l.kind, l.owner'),
      // hash indicators of a malware: at most `scan` of its edges of the kind are looked at
      siblings:
        p(`SELECT c.a AS m, x.type AS type FROM (SELECT a FROM edge WHERE b = ? AND kind = ? AND a <> ? ORDER BY a, owner LIMIT ?) c
        JOIN node x ON x.n = c.a
        WHERE x.state = ${STATE_ACTIVE} AND EXISTS (SELECT 1 FROM hold h JOIN val v ON v.v = h.v WHERE h.n = c.a AND v.key >= 'file:' AND v.key < 'file;')
        ORDER BY c.a LIMIT ?`),
      inCount: p('SELECT count(*) FROM (SELECT 1 FROM edge WHERE b = ? AND kind = ? LIMIT ?)').pluck(),
    };
  }

  async nodeOf(id: string): Promise<{ n: number; type: number } | undefined> {
    return this.s.nodeById.get(id) as { n: number; type: number } | undefined;
  }

  async ids(ns: readonly number[]): Promise<Map<number, string>> {
    return new Map(ns.map((n) => [n, this.s.idOf.get(n) as string]));
  }

  async out(n: number, limit: number): Promise<EdgeRow[]> {
    return this.s.out.all(n, limit) as EdgeRow[];
  }

  async in(n: number, limit: number): Promise<EdgeRow[]> {
    return this.s.in.all(n, limit) as EdgeRow[];
  }

  async values(n: number): Promise<{ v: number; key: string; capped: number }[]> {
    return this.s.values.all(n) as { v: number; key: string; capped: number }[];
  }

  async holders(v: number, limit: number): Promise<{ m: number; type: number }[]> {
    return this.s.holders.all(v, limit) as { m: number; type: number }[];
  }

  async linksOut(v: number): Promise<{ kind: number; w: number; key: string }[]> {
    return this.s.linksOut.all(v) as { kind: number; w: number; key: string }[];
  }

  async linksIn(v: number): Promise<{ kind: number; w: number }[]> {
    return this.s.linksIn.all(v) as { kind: number; w: number }[];
  }

  async siblings(target: number, kind: number, self: number, scan: number, limit: number) {
    return this.s.siblings.all(target, kind, self, scan, limit) as { m: number; type: number }[];
  }

  async inCount(target: number, kind: number, limit: number): Promise<number> {
    return this.s.inCount.get(target, kind, limit) as number;
  }

  peek(name: string): number | undefined {
    return this.dict.peek(name);
  }

  name(id: number): string {
    return this.dict.name(id);
  }
}

/**
 * Breadth-first walk over explicit edges and derived links. Every expansion is bounded: explicit
 * neighbours by the limit, holders of a value and links of a value by the fan-out cap; so a query
 * costs O(limit × cap) rows at most, whatever the size of the index.
 */
export class Walker {
  constructor(
    private readonly src: WalkSource,
    private readonly cap: number,
  ) {}

  async walk(id: string, o: WalkOptions): Promise<WalkResult | undefined> {
    const start = await this.src.nodeOf(id);
    if (!start) return undefined;
    const typeIds = o.types
      ? new Set(o.types.map((t) => this.src.peek(t)).filter((t): t is number => t !== undefined))
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
        const r = await this.neighbours(f.n, perNode);
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
  async neighbours(n: number, perNode: number): Promise<{ list: Neighbour[]; capped: boolean }> {
    const list: Neighbour[] = [];
    let capped = false;
    const out = await this.src.out(n, perNode);
    const inn = await this.src.in(n, perNode);
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
    let holdsFile = false;
    for (const val of await this.src.values(n)) {
      if (val.capped) capped = true;
      if (val.key.startsWith('file:')) holdsFile = true;
      const peers = await this.src.holders(val.v, probe);
      if (peers.length === probe) capped = true;
      for (const p of peers.filter((x) => x.m !== n).slice(0, this.cap)) {
        list.push({
          m: p.m,
          type: p.type,
          step: { from: n, kind: 'same-value', to: p.m, derived: true, viaValue: val.key },
        });
      }
      // the holders of each value linked to this one (capped), stepped to in the link's direction
      const follow = async <L extends { kind: number; w: number }>(links: L[], step: (m: number, l: L) => RawStep) => {
        for (const l of links) {
          const hs = await this.src.holders(l.w, probe);
          if (hs.length === probe) capped = true;
          for (const h of hs.slice(0, this.cap)) if (h.m !== n) list.push({ m: h.m, type: h.type, step: step(h.m, l) });
        }
      };
      await follow(await this.src.linksOut(val.v), (m, l) => ({
        from: n,
        kind: l.kind,
        to: m,
        derived: true,
        viaValue: l.key,
      }));
      await follow(await this.src.linksIn(val.v), (m, l) => ({
        from: m,
        kind: l.kind,
        to: n,
        derived: true,
        viaValue: val.key,
      }));
    }

    // files (hash indicators) that indicate the same malware are siblings
    const indicates = this.src.peek('indicates');
    const malware = this.src.peek('malware');
    if (holdsFile && indicates !== undefined && malware !== undefined) {
      for (const e of out) {
        if (e.kind !== indicates || e.type !== malware) continue;
        const scan = SIBLING_SCAN * this.cap;
        const sibs = await this.src.siblings(e.m, indicates, n, scan, probe);
        if (sibs.length === probe || (await this.src.inCount(e.m, indicates, scan + 1)) > scan) capped = true;
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

  /** Turns raw paths into ids and names. */
  async steps(
    paths: readonly RawStep[][],
    extra: readonly number[],
  ): Promise<{ ids: Map<number, string>; paths: PathStep[][] }> {
    const ns = new Set<number>(extra);
    for (const path of paths)
      for (const s of path) {
        ns.add(s.from);
        ns.add(s.to);
        if (s.viaNode !== undefined) ns.add(s.viaNode);
      }
    const ids = await this.src.ids([...ns]);
    await this.src.knowNames?.(paths.flatMap((p) => p.map((s) => s.kind).filter((k) => typeof k === 'number')));
    const idOf = (n: number): string => ids.get(n) ?? `#${n}`;
    const out = paths.map((path) =>
      path.map((s) => {
        const step: PathStep = {
          from: idOf(s.from),
          kind: typeof s.kind === 'number' ? this.src.name(s.kind) : s.kind,
          to: idOf(s.to),
        };
        if (s.derived) step.derived = true;
        if (s.viaNode !== undefined) step.via = idOf(s.viaNode);
        else if (s.viaValue !== undefined) step.via = s.viaValue;
        return step;
      }),
    );
    return { ids, paths: out };
  }
}

export type { RawStep };
