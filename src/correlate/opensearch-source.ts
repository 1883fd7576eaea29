import type { LinkDoc, LinksIndex } from '../store/opensearch/links.js';
import type { EdgeRow, WalkSource } from './query.js';
import { STATE_ACTIVE } from './writer.js';

/** Most documents one search returns where the SQLite query has no limit (derived links of a value: ≤ cap each). */
const UNBOUNDED = 10_000;

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

/**
 * The walk's reads on the shared links index: the same rows as the SQLite file, read with term
 * queries sorted like the SQLite indexes, so a walk answers exactly as the lease holder's index
 * would. Joins (an edge's other end must be active) are a multi-get of node documents.
 */
export class LinksWalkSource implements WalkSource {
  private byName = new Map<string, number>();
  private byId = new Map<number, string>();

  constructor(private readonly links: LinksIndex) {}

  /** Reads the dictionary of types and link kinds (small; once per walk). */
  async loadDict(): Promise<void> {
    const hits = await this.links.search('dict', {}, ['_doc'], UNBOUNDED);
    this.byName = new Map(hits.map((h) => [String(h.doc.name), num(h.doc.k)]));
    this.byId = new Map(hits.map((h) => [num(h.doc.k), String(h.doc.name)]));
  }

  async knowNames(ids: readonly number[]): Promise<void> {
    const missing = [...new Set(ids)].filter((k) => !this.byId.has(k));
    if (missing.length === 0) return;
    // realtime reads: entries written after the walk's dictionary search are found too
    for (const d of (await this.links.get(missing.map((k) => `dict:${k}`))).values()) {
      this.byId.set(num(d.k), String(d.name));
      this.byName.set(String(d.name), num(d.k));
    }
  }

  peek(name: string): number | undefined {
    return this.byName.get(name);
  }

  name(id: number): string {
    return this.byId.get(id) ?? `#${id}`;
  }

  async nodeOf(id: string): Promise<{ n: number; type: number } | undefined> {
    const [hit] = await this.links.search('node', { id }, ['n'], 1);
    return hit ? { n: num(hit.doc.n), type: num(hit.doc.type) } : undefined;
  }

  private async nodes(ns: readonly number[]): Promise<Map<number, LinkDoc>> {
    const got = await this.links.get([...new Set(ns)].map((n) => `node:${n}`));
    const out = new Map<number, LinkDoc>();
    for (const d of got.values()) out.set(num(d.n), d);
    return out;
  }

  async ids(ns: readonly number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    for (const [n, d] of await this.nodes(ns)) out.set(n, String(d.id));
    return out;
  }

  /** Edges with `end` = n, in `sort` order, whose other end (`other`) is active: at most `limit`. */
  private async activeEdges(
    end: 'a' | 'b',
    n: number,
    other: 'a' | 'b',
    sort: string[],
    limit: number,
  ): Promise<EdgeRow[]> {
    const out: EdgeRow[] = [];
    let after: (string | number)[] | undefined;
    for (;;) {
      const hits = await this.links.search('edge', { [end]: n }, sort, limit, after);
      if (hits.length === 0) return out;
      const nodes = await this.nodes(hits.map((h) => num(h.doc[other])));
      for (const h of hits) {
        const x = nodes.get(num(h.doc[other]));
        if (!x || num(x.state) !== STATE_ACTIVE) continue;
        out.push({ kind: num(h.doc.kind), m: num(h.doc[other]), owner: num(h.doc.owner), type: num(x.type) });
        if (out.length === limit) return out;
      }
      if (hits.length < limit) return out;
      after = hits[hits.length - 1]?.sort;
    }
  }

  out(n: number, limit: number): Promise<EdgeRow[]> {
    return this.activeEdges('a', n, 'b', ['kind', 'b', 'owner'], limit);
  }

  in(n: number, limit: number): Promise<EdgeRow[]> {
    return this.activeEdges('b', n, 'a', ['a', 'kind', 'owner'], limit);
  }

  private async vals(vs: readonly number[]): Promise<Map<number, LinkDoc>> {
    const got = await this.links.get([...new Set(vs)].map((v) => `val:${v}`));
    const out = new Map<number, LinkDoc>();
    for (const d of got.values()) out.set(num(d.v), d);
    return out;
  }

  async values(n: number): Promise<{ v: number; key: string; capped: number }[]> {
    const hits = await this.links.search('hold', { n }, ['v'], UNBOUNDED);
    const vals = await this.vals(hits.map((h) => num(h.doc.v)));
    return hits.map((h) => ({
      v: num(h.doc.v),
      key: String(h.doc.key),
      capped: num(vals.get(num(h.doc.v))?.capped ?? 0),
    }));
  }

  async holders(v: number, limit: number): Promise<{ m: number; type: number }[]> {
    const hits = await this.links.search('hold', { v }, ['n'], limit);
    return hits.map((h) => ({ m: num(h.doc.n), type: num(h.doc.type) }));
  }

  async linksOut(v: number): Promise<{ kind: number; w: number; key: string }[]> {
    const hits = await this.links.search('vlink', { a: v }, ['kind', 'b', 'owner'], UNBOUNDED);
    const vals = await this.vals(hits.map((h) => num(h.doc.b)));
    return hits.map((h) => ({ kind: num(h.doc.kind), w: num(h.doc.b), key: String(vals.get(num(h.doc.b))?.key) }));
  }

  async linksIn(v: number): Promise<{ kind: number; w: number }[]> {
    const hits = await this.links.search('vlink', { b: v }, ['a', 'kind', 'owner'], UNBOUNDED);
    return hits.map((h) => ({ kind: num(h.doc.kind), w: num(h.doc.a) }));
  }

  async siblings(
    target: number,
    kind: number,
    self: number,
    scan: number,
    limit: number,
  ): Promise<{ m: number; type: number }[]> {
    const hits = await this.links.search('edge', { b: target, kind }, ['a', 'owner'], scan, undefined, { a: self });
    const cands = hits.map((h) => num(h.doc.a));
    if (cands.length === 0) return [];
    const nodes = await this.nodes(cands);
    const files = await this.links.search('hold', { n: [...new Set(cands)] }, ['n'], UNBOUNDED, undefined, undefined, {
      key: 'file:',
    });
    const holdsFile = new Set(files.map((h) => num(h.doc.n)));
    const out: { m: number; type: number }[] = [];
    for (const m of [...cands].sort((x, y) => x - y)) {
      const x = nodes.get(m);
      if (!x || num(x.state) !== STATE_ACTIVE || !holdsFile.has(m)) continue;
      out.push({ m, type: num(x.type) });
      if (out.length === limit) break;
    }
    return out;
  }

  async inCount(target: number, kind: number, limit: number): Promise<number> {
    return this.links.count('edge', { b: target, kind }, limit);
  }
}
