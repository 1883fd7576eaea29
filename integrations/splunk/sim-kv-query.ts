/**
 * The subset of the KV store's Mongo-style query language the simulator understands: equality,
 * $gt/$gte/$lt/$lte/$ne/$in/$nin/$regex/$exists, $and/$or/$not; `fields`, `sort`, `limit`, `skip`.
 */

export type Doc = Record<string, unknown>;

function cmp(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function eq(a: unknown, b: unknown): boolean {
  if (Array.isArray(a)) return a.some((x) => eq(x, b));
  return JSON.stringify(a) === JSON.stringify(b);
}

function matchOp(value: unknown, cond: unknown): boolean {
  if (cond === null || typeof cond !== 'object' || Array.isArray(cond)) return eq(value, cond);
  const ops = Object.entries(cond as Doc);
  if (!ops.every(([k]) => k.startsWith('$'))) return eq(value, cond);
  return ops.every(([op, arg]) => {
    switch (op) {
      case '$gt':
        return value !== undefined && cmp(value, arg) > 0;
      case '$gte':
        return value !== undefined && cmp(value, arg) >= 0;
      case '$lt':
        return value !== undefined && cmp(value, arg) < 0;
      case '$lte':
        return value !== undefined && cmp(value, arg) <= 0;
      case '$ne':
        return !eq(value, arg);
      case '$in':
        return Array.isArray(arg) && arg.some((x) => eq(value, x));
      case '$nin':
        return Array.isArray(arg) && !arg.some((x) => eq(value, x));
      case '$exists':
        return (value !== undefined) === Boolean(arg);
      case '$regex':
        return typeof value === 'string' && new RegExp(String(arg)).test(value);
      case '$not':
        return !matchOp(value, arg);
      default:
        throw new Error(`unsupported operator ${op}`);
    }
  });
}

export function matches(doc: Doc, query: Doc): boolean {
  return Object.entries(query).every(([k, cond]) => {
    if (k === '$and') return (cond as Doc[]).every((q) => matches(doc, q));
    if (k === '$or') return (cond as Doc[]).some((q) => matches(doc, q));
    return matchOp(doc[k], cond);
  });
}

export interface QueryParams {
  query?: Doc;
  fields?: string;
  sort?: string;
  limit?: number;
  skip?: number;
}

export function runQuery(docs: Doc[], p: QueryParams, maxRows: number): Doc[] {
  const query = p.query;
  let out = query ? docs.filter((d) => matches(d, query)) : docs.slice();
  if (p.sort) {
    const keys = p.sort.split(',').map((s) => {
      const [f, dir] = s.split(':');
      return { f: (f ?? '').trim(), dir: dir === '-1' || dir === 'desc' ? -1 : 1 };
    });
    out.sort((a, b) => {
      for (const { f, dir } of keys) {
        const c = cmp(a[f], b[f]);
        if (c !== 0) return c * dir;
      }
      return 0;
    });
  }
  const skip = p.skip ?? 0;
  const limit = p.limit && p.limit > 0 ? Math.min(p.limit, maxRows) : maxRows;
  out = out.slice(skip, skip + limit);
  if (p.fields) {
    const specs = p.fields
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const excl = specs.filter((s) => s.endsWith(':0')).map((s) => s.slice(0, -2));
    const incl = specs.filter((s) => !s.endsWith(':0')).map((s) => s.replace(/:1$/, ''));
    out = out.map((d) => {
      let r: Doc;
      if (incl.length > 0) {
        r = {};
        for (const f of [...incl, '_key']) if (f in d) r[f] = d[f];
      } else r = { ...d };
      for (const f of excl) delete r[f];
      return r;
    });
  }
  return out;
}
