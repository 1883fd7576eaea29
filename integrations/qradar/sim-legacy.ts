import { at } from '../../src/core/indexed.js';
import { applyFilter, ok, page, parseBody, parseRange, project, qerror, type SimResponse } from './sim-http.js';
import { formatInterval, parseInterval, type ElementType, type RefSet } from './sim-store.js';
import type { SimContext } from './sim-context.js';

/**
 * The legacy `reference_data/sets` API (IBM's QRadar REST API documentation), deprecated from API 26.0 (`Deprecated`
 * response header) with `bulk_load/{name}` removed there (410). Path segments are decoded once by
 * routing; element values are decoded once more (§5.7: a single-encoded `/` (`%2F`) splits the path
 * and misses), set names are not (a double-encoded name is looked up with its `%xx` and not found).
 * Element types are IBM's list for sets: ALN, ALNIC, IP, NUM, PORT, DATE (no CIDR, which only maps
 * of sets, tables and reference_data_collections take).
 */

/** The element types `POST /reference_data/sets` accepts (QRadar 26.0 OpenAPI, every API version). */
export const LEGACY_SET_TYPES = ['ALN', 'ALNIC', 'IP', 'NUM', 'PORT', 'DATE'] as const;

export interface LegacyRequest {
  method: string;
  /** Path segments after /api/reference_data/sets, decoded once (by routing). */
  segs: string[];
  q: URLSearchParams;
  range: string | undefined;
  raw: Buffer;
}

/** The second decoding QRadar applies to path values; a stray `%` is kept as is. */
export function decodeValue(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function legacyMeta(set: RefSet): Record<string, unknown> {
  const m: Record<string, unknown> = {
    collection_id: set.id,
    creation_time: set.creationTime,
    element_type: set.elementType,
    name: set.name,
    namespace: set.namespace,
    number_of_elements: set.elements.size,
    timeout_type: set.expiry === 'NO_EXPIRY' ? 'UNKNOWN' : set.expiry,
  };
  if (set.ttl) m.time_to_live = formatInterval(set.ttl);
  return m;
}

const notFound = (name: string) => qerror(404, 1002, `${name} does not exist`, 'The reference set does not exist.');
const missing = (p: string) =>
  qerror(422, 8, `Missing required parameter "${p}" from query parameters`, 'A required parameter is missing.');

function checkNamespace(q: URLSearchParams): SimResponse | undefined {
  const ns = q.get('namespace');
  if (ns === null || ns === 'SHARED') return undefined;
  if (ns === 'TENANT')
    return qerror(422, 1012, 'Admin user can only access shared namespace', 'The namespace is not valid.');
  return qerror(
    422,
    1005,
    `Invalid namespace value: ${ns}`,
    'The namespace parameter must be either SHARED or TENANT.',
  );
}

export async function legacySets(ctx: SimContext, r: LegacyRequest): Promise<SimResponse> {
  const { method, segs, q } = r;
  const now = ctx.now();
  const deprecated = Number(ctx.version) >= 26 ? { Deprecated: 'true' } : undefined;
  const res = await route();
  if (deprecated && res.status < 300) res.headers = { ...deprecated, ...(res.headers ?? {}) };
  return res;

  async function route(): Promise<SimResponse> {
    if (segs.length === 0) {
      if (method === 'GET') {
        const range = parseRange(r.range);
        if (range && 'status' in range) return range;
        ctx.store.sweepAll(now);
        const all = applyFilter([...ctx.store.sets.values()].map(legacyMeta), q.get('filter'), 1005);
        if (!Array.isArray(all)) return all;
        const p = page(all, range);
        return ok(project(p.items, q.get('fields')), 200, p.headers);
      }
      if (method === 'POST') return create();
      return qerror(405, 0, `Method ${method} is not supported on this resource.`);
    }
    if (segs[0] === 'bulk_load') return bulkLoad();
    const name = at(segs, 0);
    const nsErr = checkNamespace(q);
    if (nsErr) return nsErr;
    const set = ctx.store.byName(name);
    if (segs.length === 2) {
      if (method !== 'DELETE') return qerror(405, 0, `Method ${method} is not supported on this resource.`);
      const dom = ctx.domains.legacy(q.get('domain_id'));
      if ('status' in dom) return dom;
      if (!set) return notFound(name);
      ctx.store.sweep(set, now);
      const value = decodeValue(at(segs, 1));
      if (!ctx.store.remove(set, value))
        return qerror(
          404,
          1003,
          `Set ${name} does not contain value ${value} in shared`,
          'The record does not exist in the reference set.',
        );
      return ok(project(legacyMeta(set), q.get('fields')));
    }
    if (segs.length !== 1) return qerror(404, 0, 'The requested resource does not exist.');
    if (!set) return notFound(name);
    ctx.store.sweep(set, now);
    if (method === 'GET') {
      const range = parseRange(r.range);
      if (range && 'status' in range) return range;
      const data = [...set.elements.values()].map((e) => ({
        value: e.value,
        source: e.source,
        first_seen: e.firstSeen,
        last_seen: e.lastSeen,
        domain_id: e.domainId,
      }));
      const filtered = applyFilter(data, q.get('filter'), 1005);
      if (!Array.isArray(filtered)) return filtered;
      // without a Range only the first 20 records come back (IBM docs)
      const p = page(filtered, range ?? { start: 0, end: 19 });
      return ok(project({ ...legacyMeta(set), data: p.items }, q.get('fields')), 200, p.headers);
    }
    if (method === 'POST') {
      const value = q.get('value');
      if (value === null) return missing('value');
      const bad = ctx.store.check(set, value);
      if (bad) return qerror(422, 1005, bad, 'The value is not valid for the element type of the reference set.');
      const dom = ctx.domains.legacy(q.get('domain_id'));
      if ('status' in dom) return dom;
      await ctx.latency(set, 1);
      ctx.store.add(set, value, ctx.now(), q.get('source') ?? 'reference data api', undefined, dom.domainId);
      return ok(project(legacyMeta(set), q.get('fields')));
    }
    if (method === 'DELETE') {
      const purge = q.get('purge_only') ?? 'false';
      if (purge !== 'true' && purge !== 'false')
        return qerror(422, 1005, `Invalid purge_only value: ${purge}`, 'purge_only must be true or false.');
      if (purge === 'true') ctx.store.purge(set);
      else ctx.store.delete(set);
      const task = ctx.tasks.create(
        'Reference Data Deletion Task',
        now,
        'Searching for items that depend on the Reference Data.',
      );
      return ok(task, 202, { Location: `/api/system/task_management/tasks/${task.id}` });
    }
    return qerror(405, 0, `Method ${method} is not supported on this resource.`);
  }

  function create(): SimResponse {
    const name = q.get('name');
    const type = q.get('element_type');
    if (name === null) return missing('name');
    if (type === null) return missing('element_type');
    if (!(LEGACY_SET_TYPES as readonly string[]).includes(type))
      return qerror(
        422,
        11,
        `Failed to transform user query parameter "element_type" with a content type of "TEXT_PLAIN"`,
        'A request parameter is not valid',
      );
    const tt = q.get('timeout_type') ?? 'UNKNOWN';
    if (!['UNKNOWN', 'FIRST_SEEN', 'LAST_SEEN'].includes(tt))
      return qerror(
        422,
        11,
        `Failed to transform user query parameter "timeout_type" with a content type of "TEXT_PLAIN"`,
        'A request parameter is not valid',
      );
    const ttlText = q.get('time_to_live');
    const ttl = ttlText === null ? undefined : parseInterval(ttlText);
    if (ttlText !== null && !ttl)
      return qerror(422, 1005, `Invalid time to live interval ${ttlText}`, 'A request parameter is not valid');
    if (ctx.store.byName(name))
      return qerror(
        409,
        1004,
        `The name ${name} is already in use`,
        'The reference set could not be created, the name provided is already in use. Please change the name and try again.',
      );
    const set = ctx.store.create({ name, elementType: type as ElementType, ttl, expiry: tt as 'UNKNOWN' }, now);
    return ok(project(legacyMeta(set), q.get('fields')), 201);
  }

  async function bulkLoad(): Promise<SimResponse> {
    if (method !== 'POST') return qerror(405, 0, `Method ${method} is not supported on this resource.`);
    let name: string;
    let domainId: number | null = null;
    if (segs.length === 2) {
      if (Number(ctx.version) >= 26)
        return qerror(
          410,
          0,
          `The endpoint /reference_data/sets/bulk_load/{name} has been removed in version ${ctx.version}.`,
          'The requested resource has been removed.',
        );
      name = at(segs, 1);
    } else if (segs.length === 4) {
      const ns = segs[1];
      if (ns === 'TENANT' && ctx.domains.tenantId === undefined)
        return qerror(422, 1012, 'Admin user can only access shared namespace', 'The namespace is not valid.');
      if (ns !== 'SHARED' && ns !== 'TENANT')
        return qerror(
          422,
          1005,
          `Invalid namespace value: ${ns}`,
          'The namespace parameter must be either SHARED or TENANT',
        );
      const dom = ctx.domains.legacy(at(segs, 3));
      if ('status' in dom) return dom;
      domainId = dom.domainId;
      name = at(segs, 2);
    } else return qerror(404, 0, 'The requested resource does not exist.');
    const set = ctx.store.byName(name);
    if (!set) return notFound(name);
    const body = parseBody(r.raw, 'data');
    if ('status' in body) return body;
    const values = body.v;
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string' && typeof v !== 'number')) {
      return qerror(400, 1001, 'The message body must be a JSON array of values', 'The JSON body could not be parsed.');
    }
    const strs = values.map(String);
    if (ctx.maxBulkElements !== undefined && strs.length > ctx.maxBulkElements)
      return qerror(413, 0, `Too many elements in a single bulk load (${strs.length} > ${ctx.maxBulkElements})`);
    for (const v of strs) {
      const bad = ctx.store.check(set, v);
      if (bad) return qerror(422, 1005, bad, 'The value is not valid for the element type of the reference set.');
    }
    ctx.store.sweep(set, now);
    await ctx.latency(set, strs.length);
    const take = ctx.partialAccept ?? strs.length;
    const t = ctx.now();
    for (const v of strs.slice(0, take)) ctx.store.add(set, v, t, undefined, undefined, domainId);
    if (take < strs.length)
      return qerror(
        500,
        1020,
        'An error occurred while attempting to add or update data in the reference set',
        'Unexpected internal server error.',
      );
    return ok(project(legacyMeta(set), r.q.get('fields')));
  }
}
