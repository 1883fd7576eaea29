import type { SinkRecord, SinkRunContext, RemoteEntry, Schedule, SinkReconciler } from '../../src/delivery/types.js';
import { digestOf } from '../../src/delivery/reconcile-digest.js';
import { encodeSetName, filterString, type QradarClient } from './client.js';
import { refusedValue, routeKeyOf, valueKey, type SetRoute } from './routing.js';
import type { SetApi } from './set-api.js';

/**
 * Reading QRadar back for reconcile (docs/reconcile.md; QRadar 26.0 OpenAPI):
 *  - reference_data_collections (API ≥ 16.0): `GET /reference_data_collections/sets?filter=name in (…)`
 *    for the set ids, then `GET /reference_data_collections/set_entries?filter=collection_id=N`
 *    with `fields=id,value,source,notes,domain_id`, `sort=+id` and `Range: items=x-y` pages;
 *  - legacy reference_data/sets: `GET /reference_data/sets/{name}` with `fields=data(value,source,domain_id)`
 *    and `Range: items=x-y` (the Range pages the set's `data`).
 * The sets are stixgate's own (named with `set_prefix`); an entry whose `source` is not the one
 * stixgate writes (the mapping table's `source` constant; the legacy bulk_load leaves
 * `reference data api`) was added by another tool or by hand under another name and is foreign,
 * and so is, when `domain_id` is configured, an entry of another domain.
 * Collections entries compare on `notes` (the STIX id by default); legacy entries carry no
 * per-value fields, so they are either held or not.
 */

/** Entries per Range request. */
export const QRADAR_READ_PAGE = 1000;
const NOTES_MAX = 4000;
const SEP = '\u0000';
const LEGACY_SOURCE = 'reference data api';

interface Entry {
  value?: unknown;
  source?: unknown;
  notes?: unknown;
  domain_id?: unknown;
}

export interface QradarReadAccess {
  client: QradarClient;
  /** Connects (version detection) and gives the set API in use. */
  connect(ctx: SinkRunContext): Promise<SetApi>;
  generation(): 'collections' | 'legacy' | undefined;
  /** The routes the sink pushes to (after `connect`: the generation decides which are served). */
  routes(): SetRoute[];
  /** All configured routes by routing key. */
  byKey: Map<string, SetRoute>;
  /** The `source` the sink writes on collections entries (the mapping table's constant), if any. */
  source: string | undefined;
  /** The configured `domain_id`: entries of other domains are foreign. */
  domainId?: number;
}

const totalOf = (h: Record<string, string>): number | undefined => {
  const m = /\/(\d+)\s*$/.exec(h['content-range'] ?? '');
  return m ? Number(m[1]) : undefined;
};

/** One route's entries, a Range page at a time. */
async function* readSet(
  a: QradarReadAccess,
  route: SetRoute,
  setId: number | undefined,
  ctx: SinkRunContext,
  schedule: Schedule,
): AsyncGenerator<Entry[]> {
  for (let start = 0; ; start += QRADAR_READ_PAGE) {
    const range = { start, end: start + QRADAR_READ_PAGE - 1 };
    let rows: Entry[];
    let total: number | undefined;
    if (setId !== undefined) {
      const query = { filter: `collection_id=${setId}`, fields: 'id,value,source,notes,domain_id', sort: '+id' };
      const r = await schedule(() =>
        a.client.call(ctx, { method: 'GET', path: '/reference_data_collections/set_entries', query, range }),
      );
      if (!Array.isArray(r.body))
        throw a.client.protocol(
          { method: 'GET', path: '/reference_data_collections/set_entries' },
          'did not answer a JSON array',
        );
      rows = r.body as Entry[];
      total = totalOf(r.headers);
    } else {
      const c = { method: 'GET' as const, path: `/reference_data/sets/${encodeSetName(route.name)}` };
      const r = await schedule(() =>
        a.client.call(ctx, { ...c, query: { fields: 'data(value,source,domain_id)' }, range, accept: [404] }),
      );
      if (r.status === 404) return; // the set does not exist: it holds nothing
      const data = (r.body as { data?: unknown } | undefined)?.data ?? [];
      if (!Array.isArray(data)) throw a.client.protocol(c, 'answered a set whose data is not a list');
      rows = data as Entry[];
      total = totalOf(r.headers);
    }
    if (rows.length) yield rows;
    if (rows.length === 0 || (total !== undefined && start + QRADAR_READ_PAGE >= total)) return;
  }
}

/** The set ids of the routes (collections API); routes without a set are left out. */
async function setIds(
  a: QradarReadAccess,
  routes: SetRoute[],
  ctx: SinkRunContext,
  schedule: Schedule,
): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  if (routes.length === 0) return ids;
  const query = { filter: `name in (${routes.map((r) => filterString(r.name)).join(',')})`, fields: 'id,name' };
  const rows = await schedule(() =>
    a.client.list<{ id?: unknown; name?: unknown }>(ctx, '/reference_data_collections/sets', query),
  );
  for (const s of rows) if (typeof s.id === 'number' && typeof s.name === 'string') ids.set(s.name, s.id);
  return ids;
}

export function qradarReconciler(a: QradarReadAccess): SinkReconciler {
  const notesOf = (v: unknown): string => (typeof v === 'string' ? v.slice(0, NOTES_MAX) : '');
  const digest = (notes: unknown): string => (a.generation() === 'legacy' ? '' : digestOf({ notes: notesOf(notes) }));
  const own = (source: unknown): boolean =>
    source === (a.generation() === 'legacy' ? LEGACY_SOURCE : (a.source ?? LEGACY_SOURCE));
  return {
    describe: () =>
      `QRadar ${a.generation() === 'legacy' ? 'reference sets' : 'reference data collections'} ${a
        .routes()
        .map((r) => r.name)
        .join(', ')}`,
    async *read(ctx, schedule) {
      await a.connect(ctx);
      const routes = a.routes();
      const ids = a.generation() === 'collections' ? await setIds(a, routes, ctx, schedule) : undefined;
      for (const route of routes) {
        if (ids && !ids.has(route.name)) continue;
        for await (const rows of readSet(a, route, ids?.get(route.name), ctx, schedule)) {
          yield rows
            .filter((e) => typeof e.value === 'string')
            .map(
              (e): RemoteEntry => ({
                key: `${route.name}${SEP}${valueKey(route.elementType, e.value as string)}`,
                digest: digest(e.notes),
                foreign: !own(e.source) || (a.domainId !== undefined && e.domain_id !== a.domainId),
                ref: [route.key, e.value],
                label: `${route.name} ${e.value as string}`,
                ...(typeof e.value === 'string' ? { value: e.value } : {}),
              }),
            );
        }
      }
    },
    expected(r: SinkRecord) {
      const key = routeKeyOf(r.observable);
      const route = key && a.routes().find((x) => x.key === key);
      // values the sink refuses before sending (unrouted, unserved, invalid for the set) are never held
      if (!route || refusedValue(route.elementType, r.observable.value)) return undefined;
      return {
        key: `${route.name}${SEP}${valueKey(route.elementType, r.observable.value)}`,
        digest: digest(r.fields.notes),
        label: `${route.name} ${r.observable.value}`,
      };
    },
    async removeExtra(entries, ctx, schedule) {
      const api = await a.connect(ctx);
      const by = new Map<SetRoute, string[]>();
      for (const e of entries) {
        const [k, value] = e.ref as [string, string];
        const route = a.byKey.get(k);
        if (route) by.set(route, [...(by.get(route) ?? []), value]);
      }
      for (const [route, values] of by) await schedule(() => api.remove(ctx, route, values));
    },
  };
}
