import { applyFilter, ok, page, parseBody, parseRange, project, qerror, type SimResponse } from './sim-http.js';
import {
  ELEMENT_TYPES,
  intervalFromSeconds,
  intervalSeconds,
  type Element,
  type ElementType,
  type RefSet,
} from './sim-store.js';
import type { BulkResults, SimContext } from './sim-context.js';
import { isRecord } from '../../src/core/guards.js';

/**
 * `reference_data_collections` sets and entries (IBM's QRadar REST API documentation), served from API 16.0 on:
 * set DTOs by id, entries with ids, the asynchronous PATCH bulk update with its task and results,
 * and asynchronous set deletion.
 */

export interface CollectionsRequest {
  method: string;
  /** Path segments after /api/reference_data_collections. */
  segs: string[];
  q: URLSearchParams;
  range: string | undefined;
  raw: Buffer;
}

export const COLLECTIONS_MIN_VERSION = 16;
const EXPIRY = ['FIRST_SEEN', 'LAST_SEEN', 'NO_EXPIRY'];
const LOG_OPTIONS = ['LOG_NONE', 'LOG_EACH', 'LOG_BATCH'];
/** The unique code used here for a value that does not fit the set's entry type [UNCERTAIN: 20001–20006 are not itemised]. */
export const INVALID_ENTRY_CODE = 20004;

export function setDto(set: RefSet): Record<string, unknown> {
  return {
    id: set.id,
    name: set.name,
    entry_type: set.elementType,
    namespace: set.namespace,
    tenant_id: set.tenantId,
    description: set.description ?? '',
    creation_time: set.creationTime,
    number_of_entries: set.elements.size,
    time_to_live: set.ttl ? intervalSeconds(set.ttl) : null,
    expiry_type: set.expiry === 'UNKNOWN' ? 'NO_EXPIRY' : set.expiry,
    expired_log_option: set.expiredLogOption,
    global_id: `stixgate-sim-${set.id}`,
    delete_entries: false,
  };
}

export const entryDto = (set: RefSet, e: Element): Record<string, unknown> => ({
  id: e.id,
  collection_id: set.id,
  value: e.value,
  source: e.source,
  notes: e.notes ?? '',
  domain_id: e.domainId,
  first_seen: e.firstSeen,
  last_seen: e.lastSeen,
  delete_entry: false,
});

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** QRadar's 422 for a DTO's bad time_to_live or expiry_type (its codes differ on create and update), or undefined. */
function invalidExpiry(d: Record<string, unknown>, ttlCode: number, expiryCode: number): SimResponse | undefined {
  if (d.time_to_live !== undefined && d.time_to_live !== null && !isInt(d.time_to_live))
    return qerror(
      422,
      ttlCode,
      `Invalid time_to_live ${JSON.stringify(d.time_to_live)}`,
      'A request parameter is not valid',
    );
  if (d.expiry_type !== undefined && !EXPIRY.includes(String(d.expiry_type)))
    return qerror(
      422,
      expiryCode,
      `Invalid expiry_type ${JSON.stringify(d.expiry_type)}`,
      'A request parameter is not valid',
    );
  return undefined;
}

export async function collections(ctx: SimContext, r: CollectionsRequest): Promise<SimResponse> {
  if (Number(ctx.version) < COLLECTIONS_MIN_VERSION)
    return qerror(404, 0, `The requested resource does not exist in version ${ctx.version}.`);
  const [kind, id, sub] = r.segs;
  const num = id === undefined ? undefined : /^\d+$/.test(id) ? Number(id) : NaN;
  if (Number.isNaN(num))
    return qerror(422, 11, `Failed to transform path parameter with value "${id}"`, 'A path parameter is not valid.');
  const fields = r.q.get('fields');
  const now = ctx.now();
  switch (kind) {
    case 'sets':
      if (num === undefined) return r.method === 'GET' ? list() : r.method === 'POST' ? createSet() : notAllowed();
      if (sub !== undefined) return qerror(404, 0, 'The requested resource does not exist.');
      return oneSet(num);
    case 'set_entries':
      if (num === undefined)
        return r.method === 'GET'
          ? listEntries()
          : r.method === 'POST'
            ? postEntry()
            : r.method === 'PATCH'
              ? bulk()
              : notAllowed();
      return oneEntry(num);
    case 'set_bulk_update_tasks': {
      const t = num === undefined ? undefined : ctx.tasks.all.get(num);
      if (r.method !== 'GET') return notAllowed();
      if (!t?.results)
        return qerror(404, 23001, `Bulk update task ${id} does not exist`, 'The task_status_id does not exist');
      if (sub === undefined) return ok(project(ctx.tasks.view(t), fields));
      if (sub !== 'results') return qerror(404, 0, 'The requested resource does not exist.');
      if (t.status !== 'COMPLETED')
        return qerror(404, 23003, `The results of task ${id} are not available yet`, 'The results are not available');
      const res = t.results;
      return ok(
        project(
          {
            id: t.id,
            status: res.status,
            total_responses: res.responses.length,
            successful_responses: res.responses.filter((x) => x.http_status < 300).length,
            responses: res.responses,
          },
          fields,
        ),
      );
    }
    case 'set_delete_tasks': {
      const t = num === undefined ? undefined : ctx.tasks.all.get(num);
      if (!t || t.results)
        return qerror(404, 12000, `Delete task ${id} does not exist`, 'The Delete task does not exist.');
      return ok(project(ctx.tasks.view(t), fields));
    }
    default:
      return qerror(404, 0, 'The requested resource does not exist.');
  }

  function notAllowed(): SimResponse {
    return qerror(405, 0, `Method ${r.method} is not supported on this resource.`);
  }

  function list(): SimResponse {
    const range = parseRange(r.range);
    if (range && 'status' in range) return range;
    ctx.store.sweepAll(now);
    const all = applyFilter([...ctx.store.sets.values()].map(setDto), r.q.get('filter'), 14000);
    if (!Array.isArray(all)) return all;
    const p = page(all, range);
    return ok(project(p.items, fields), 200, p.headers);
  }

  function createSet(): SimResponse {
    const b = parseBody(r.raw);
    if ('status' in b) return b;
    const d = b.v;
    if (!isRecord(d)) return qerror(422, 10002, 'The set name is required', 'The body must be a Set DTO');
    if (typeof d.name !== 'string' || d.name === '')
      return qerror(422, 10002, 'The set name is required', 'A request parameter is not valid');
    if (typeof d.entry_type !== 'string' || !(ELEMENT_TYPES as readonly string[]).includes(d.entry_type))
      return qerror(422, 10001, 'A valid entry_type is required', 'A request parameter is not valid');
    const ns = d.namespace ?? 'SHARED';
    const tenant = ctx.domains.tenantId;
    if (ns !== 'SHARED' && ns !== 'TENANT')
      return qerror(422, 10003, `Invalid namespace ${String(ns)}`, 'A request parameter is not valid');
    if ((ns === 'SHARED') !== (tenant === undefined))
      return qerror(
        422,
        10003,
        `Namespace ${String(ns)} is not allowed for this user`,
        'A request parameter is not valid',
      );
    if (ns === 'TENANT' && d.tenant_id !== tenant)
      return qerror(
        422,
        10004,
        `Tenant ${String(d.tenant_id)} is not the caller's tenant`,
        'A request parameter is not valid',
      );
    const badExpiry = invalidExpiry(d, 10007, 10007);
    if (badExpiry) return badExpiry;
    if (d.expired_log_option !== undefined && !LOG_OPTIONS.includes(String(d.expired_log_option)))
      return qerror(
        422,
        10007,
        `Invalid expired_log_option ${JSON.stringify(d.expired_log_option)}`,
        'A request parameter is not valid',
      );
    if (ctx.store.byName(d.name))
      return qerror(
        409,
        10006,
        `A collection with the name ${d.name} already exists`,
        'A collection with the same name already exists',
      );
    const ttl = isInt(d.time_to_live) ? intervalFromSeconds(d.time_to_live) : undefined;
    const set = ctx.store.create(
      {
        name: d.name,
        elementType: d.entry_type as ElementType,
        ttl,
        expiry: ((d.expiry_type as string | undefined) ?? 'NO_EXPIRY') as 'NO_EXPIRY',
        description: typeof d.description === 'string' ? d.description : undefined,
        expiredLogOption: d.expired_log_option as string | undefined,
        tenantId: ns === 'TENANT' ? tenant : undefined,
      },
      now,
    );
    return ok(project(setDto(set), fields), 201);
  }

  function oneSet(setId: number): SimResponse {
    const set = ctx.store.sets.get(setId);
    if (r.method === 'GET') {
      if (!set)
        return qerror(404, 15000, `The reference set ${setId} does not exist`, 'The reference set does not exist.');
      ctx.store.sweep(set, now);
      return ok(project(setDto(set), fields));
    }
    if (r.method === 'POST') {
      if (!set)
        return qerror(
          404,
          11001,
          `The reference set ${setId} does not exist`,
          'Indicates the Set with the specified ID does not exist',
        );
      const b = parseBody(r.raw);
      if ('status' in b) return b;
      const d = b.v;
      if (!isRecord(d)) return qerror(422, 11002, 'The body must be a Set DTO', 'A request parameter is not valid');
      const badExpiry = invalidExpiry(d, 11003, 11004);
      if (badExpiry) return badExpiry;
      if (isInt(d.time_to_live)) set.ttl = intervalFromSeconds(d.time_to_live);
      if (d.time_to_live === null) set.ttl = undefined;
      if (d.expiry_type !== undefined) set.expiry = d.expiry_type as 'NO_EXPIRY';
      if (typeof d.description === 'string') set.description = d.description;
      if (typeof d.expired_log_option === 'string') set.expiredLogOption = d.expired_log_option;
      if (d.delete_entries === true) ctx.store.purge(set);
      set.nextSweep = now;
      return ok(project(setDto(set), fields));
    }
    if (r.method === 'DELETE') {
      if (!set)
        return qerror(404, 12002, `The reference set ${setId} does not exist`, 'The reference set does not exist.');
      ctx.store.delete(set);
      return ok(
        ctx.tasks.view(ctx.tasks.create('Reference Data Collection Delete Task', now, undefined, ctx.user)),
        202,
      );
    }
    return notAllowed();
  }

  function listEntries(): SimResponse {
    const range = parseRange(r.range);
    if (range && 'status' in range) return range;
    const type = r.q.get('entry_type');
    if (type !== null && !(ELEMENT_TYPES as readonly string[]).includes(type))
      return qerror(422, 24002, `Invalid entry_type ${type}`, 'A filter criterion was not valid');
    const filter = r.q.get('filter');
    // a leading collection_id=N narrows the scan to one set (the common query)
    const only = filter ? /^\s*collection_id\s*=\s*(\d+)\b/.exec(filter) : null;
    const sets = only
      ? [ctx.store.sets.get(Number(only[1]))].filter((s): s is RefSet => !!s)
      : [...ctx.store.sets.values()];
    const rows: Record<string, unknown>[] = [];
    for (const set of sets) {
      if (type !== null && set.elementType !== type) continue;
      ctx.store.sweep(set, now);
      for (const e of set.elements.values()) rows.push(entryDto(set, e));
    }
    // entry_type makes filtering on value type aware: ALNIC compares ignoring case
    const filtered = applyFilter(rows, filter, 24001, type === 'ALNIC' ? new Set(['value']) : undefined);
    if (!Array.isArray(filtered)) return filtered;
    const p = page(filtered, range);
    return ok(project(p.items, fields), 200, p.headers);
  }

  /** Validates one entry DTO against its set; the set or the per-entry error. */
  function checkEntry(
    d: unknown,
  ):
    | { set: RefSet; value: string; source?: string; notes?: string; domainId: number | null }
    | { status: number; code: number; message: string } {
    if (!isRecord(d)) return { status: 422, code: 20001, message: 'An entry must be a Set Entry DTO' };
    if (!isInt(d.collection_id)) return { status: 422, code: 20001, message: 'collection_id is required' };
    if (typeof d.value !== 'string' || d.value === '')
      return { status: 422, code: 20002, message: 'value is required' };
    const set = ctx.store.sets.get(d.collection_id);
    if (!set) return { status: 422, code: 20003, message: `Collection ${d.collection_id} does not exist` };
    if (typeof d.notes === 'string' && d.notes.length > 4000)
      return { status: 422, code: 20008, message: 'The notes field exceeded the allowed limit' };
    const bad = ctx.store.check(set, d.value);
    if (bad)
      return {
        status: 422,
        code: bad.startsWith('Value exceeds') ? 20007 : set.elementType === 'CIDR' ? 20009 : INVALID_ENTRY_CODE,
        message: bad,
      };
    if (d.domain_id !== undefined && d.domain_id !== null && !(isInt(d.domain_id) && ctx.domains.allows(d.domain_id)))
      return {
        status: 422,
        code: 20005,
        message: `An invalid domain ID was specified: ${JSON.stringify(d.domain_id)}`,
      };
    return {
      set,
      value: d.value,
      source: typeof d.source === 'string' ? d.source : undefined,
      notes: typeof d.notes === 'string' ? d.notes : undefined,
      domainId: isInt(d.domain_id) ? d.domain_id : null,
    };
  }

  async function postEntry(): Promise<SimResponse> {
    const b = parseBody(r.raw);
    if ('status' in b) return b;
    const c = checkEntry(b.v);
    if ('status' in c) return qerror(c.status, c.code, c.message, 'A request parameter is not valid');
    ctx.store.sweep(c.set, now);
    await ctx.latency(c.set, 1);
    const { element, created } = ctx.store.add(
      c.set,
      c.value,
      ctx.now(),
      c.source ?? 'reference data api',
      c.notes,
      c.domainId,
    );
    return ok(project(entryDto(c.set, element), fields), created ? 201 : 200);
  }

  function oneEntry(entryId: number): SimResponse {
    const found = ctx.store.findElement(entryId);
    if (r.method === 'GET')
      return found
        ? ok(project(entryDto(found.set, found.element), fields))
        : qerror(404, 25000, `Entry ${entryId} does not exist`, "The ID doesn't exist");
    if (r.method === 'DELETE') {
      if (!found) return qerror(404, 22001, `Entry ${entryId} does not exist`, 'The entry was not found');
      ctx.store.remove(found.set, found.element.value);
      return { status: 204 };
    }
    if (r.method === 'POST') {
      if (!found) return qerror(404, 21000, `Entry ${entryId} does not exist`, 'The id could not be located');
      const b = parseBody(r.raw);
      if ('status' in b) return b;
      const notes = isRecord(b.v) ? b.v.notes : undefined;
      if (typeof notes === 'string' && notes.length > 4000)
        return qerror(
          422,
          21003,
          'The notes field exceeded the allowed limit',
          'The notes field exceeded the allowed limit',
        );
      if (typeof notes === 'string') found.element.notes = notes;
      found.element.lastSeen = now;
      return ok(project(entryDto(found.set, found.element), fields));
    }
    return notAllowed();
  }

  function bulk(): SimResponse {
    const b = parseBody(r.raw);
    if ('status' in b) return b;
    if (!Array.isArray(b.v) || b.v.length === 0)
      return qerror(
        422,
        23002,
        'The body must be a non-empty JSON array of Set Entry DTOs',
        'A request parameter is not valid',
      );
    if (ctx.maxBulkElements !== undefined && b.v.length > ctx.maxBulkElements)
      return qerror(413, 0, `Too many entries in a single bulk update (${b.v.length} > ${ctx.maxBulkElements})`);
    for (const d of b.v) {
      if (isRecord(d) && isInt(d.collection_id) && !ctx.store.sets.get(d.collection_id))
        return qerror(
          422,
          23000,
          `Collection ${d.collection_id} does not exist`,
          'An unknown collection was specified',
        );
      if (
        isRecord(d) &&
        d.domain_id !== undefined &&
        d.domain_id !== null &&
        !(isInt(d.domain_id) && ctx.domains.allows(d.domain_id))
      )
        return qerror(
          422,
          23005,
          `An invalid domain ID was specified: ${JSON.stringify(d.domain_id)}`,
          'An invalid domain ID was specified',
        );
    }
    const entries = b.v;
    const partial = ctx.partialAccept;
    const task = ctx.tasks.run(
      'Reference Data Set Bulk Update',
      ctx.now,
      ctx.taskDelayMs,
      async (t) => {
        const checked = entries.map(checkEntry);
        const bySet = new Map<RefSet, number>();
        for (const c of checked) if (!('status' in c)) bySet.set(c.set, (bySet.get(c.set) ?? 0) + 1);
        for (const [set, n] of bySet) {
          ctx.store.sweep(set, ctx.now());
          await ctx.latency(set, n);
        }
        const responses: BulkResults['responses'] = [];
        let applied = 0;
        for (const c of checked) {
          if ('status' in c) responses.push({ http_status: c.status, message: c.message, unique_code: c.code });
          else if (partial !== undefined && applied >= partial)
            responses.push({ http_status: 500, message: 'An unspecified error occurred', unique_code: 110000 });
          else {
            applied++;
            const { created } = ctx.store.add(
              c.set,
              c.value,
              ctx.now(),
              c.source ?? 'reference data api',
              c.notes,
              c.domainId,
            );
            responses.push({
              http_status: created ? 201 : 200,
              message: created ? 'The entry was created' : 'The entry was updated',
              unique_code: 0,
            });
          }
        }
        const good = responses.filter((x) => x.http_status < 300).length;
        t.results = {
          status:
            good === responses.length
              ? 'COMPLETE_UPDATE_PERFORMED'
              : good === 0
                ? 'UPDATE_ABORTED'
                : 'PARTIAL_UPDATE_PERFORMED',
          responses,
        };
      },
      ctx.user,
    );
    task.results = { status: 'UPDATE_ABORTED', responses: [] };
    return ok(ctx.tasks.view(task), 202);
  }
}
