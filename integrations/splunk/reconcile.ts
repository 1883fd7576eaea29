import { at } from '../../src/core/indexed.js';
import { safeJsonParse } from '../../src/core/safe-json.js';
import type {
  SinkRecord,
  SinkRunContext,
  ExpectedEntry,
  RemoteEntry,
  Schedule,
  SinkReconciler,
} from '../../src/delivery/types.js';
import { digestOf } from '../../src/delivery/reconcile-digest.js';
import { messagesOf, protocolError } from './client.js';
import type { KvClient } from './kv.js';

/**
 * Reading Splunk back for reconcile (docs/reconcile.md, Splunk's KV store REST API): KV store collection
 * queries `GET …/storage/collections/data/{collection}?query={"_key":{"$gt":<last>}}&sort=_key&limit=N`
 * (key-set paging: each page starts after the last key of the one before, so a page costs the
 * same at the millionth entry as at the first, unlike `skip`). Documents whose `_key` is not a
 * stixgate record key (40 lower-case hex digits, the SHA-1 of `<type>:<value>`) were written by
 * someone else (Splunk assigns 24-digit object ids) and are foreign.
 * HEC is not here: the HTTP Event Collector is write-only, events cannot be read back through it.
 */

/** Documents per read request (limits.conf [kvstore] max_rows_per_query is 50,000 by default). */
export const KV_READ_PAGE = 10_000;

const OWN_KEY = /^[0-9a-f]{40}$/;
/** Fields Splunk adds to every document, and the ES row's `time` (the push time, renewed by each push). */
const VOLATILE = new Set(['_key', '_user']);

type Doc = Record<string, unknown>;

/** The compared content of a document: every field but the volatile ones. */
export function docDigest(doc: Doc, volatile: ReadonlySet<string> = VOLATILE): string {
  const out: Doc = {};
  for (const [k, v] of Object.entries(doc)) if (!volatile.has(k) && !VOLATILE.has(k)) out[k] = v;
  return digestOf(out);
}

/** All documents of one collection, a page at a time, in `_key` order; nothing when the collection does not exist. */
export async function* readCollection(
  kv: KvClient,
  collection: string,
  ctx: SinkRunContext,
  schedule: Schedule,
  page = KV_READ_PAGE,
): AsyncGenerator<Doc[]> {
  let last: string | undefined;
  for (;;) {
    const query: Record<string, string> = { sort: '_key', limit: String(page) };
    if (last !== undefined) query.query = JSON.stringify({ _key: { $gt: last } });
    const r = await schedule(() =>
      kv.rest.call(ctx, { method: 'GET', path: kv.dataPath(collection), query, ok: [404], idempotent: true }),
    );
    if (r.status === 404) return;
    const parsed = safeJsonParse(r.text);
    if (!parsed.ok) {
      throw protocolError(
        kv.rest.component,
        `collection ${collection} answered a query with something other than JSON (${parsed.message}): ${messagesOf(r.text)}`,
      );
    }
    const docs = parsed.value;
    if (!Array.isArray(docs))
      throw protocolError(kv.rest.component, `collection ${collection} answered a query without a list of documents`);
    const rows = (docs as Doc[]).filter((d) => d && typeof d._key === 'string');
    // the server may cap a page below `limit` (max_rows_per_query): only an empty page ends the scan
    if (rows.length === 0) return;
    yield rows;
    const next = at(rows, rows.length - 1)._key as string;
    if (last !== undefined && next <= last)
      throw protocolError(
        kv.rest.component,
        `collection ${collection} answered a page that does not follow _key order`,
      );
    last = next;
  }
}

/** Removal of documents by `_key`, `perRequest` keys a request, each request through the limiter. */
async function deleteKeys(
  kv: KvClient,
  collection: string,
  keys: string[],
  perRequest: number,
  ctx: SinkRunContext,
  schedule: Schedule,
): Promise<void> {
  for (let i = 0; i < keys.length; i += perRequest) {
    const chunk = keys.slice(i, i + perRequest);
    await schedule(() => kv.deleteKeys(ctx, collection, chunk, perRequest));
  }
}

const labelOf = (doc: Doc, field: string): string =>
  typeof doc[field] === 'string' ? (doc[field] as string) : String(doc._key);

/** `splunk_kv`: the sink's own collection. `docOf` is the document the sink writes for a record (without `_key`). */
export function kvReconciler(
  kv: KvClient,
  collection: string,
  docOf: (r: SinkRecord) => Doc,
  maxKeysPerDelete: number,
): SinkReconciler {
  return {
    describe: () => `KV collection ${kv.app}/${collection}`,
    async *read(ctx, schedule) {
      for await (const docs of readCollection(kv, collection, ctx, schedule)) {
        yield docs.map((d): RemoteEntry => {
          const key = d._key as string;
          return {
            key,
            digest: docDigest(d),
            foreign: !OWN_KEY.test(key),
            ref: key,
            label: `${collection} ${labelOf(d, 'indicator')}`,
            recordKey: key,
          };
        });
      }
    },
    expected: (r): ExpectedEntry => ({
      key: r.key,
      digest: docDigest(docOf(r)),
      label: `${collection} ${r.observable.value}`,
    }),
    removeExtra: (entries, ctx, schedule) =>
      deleteKeys(
        kv,
        collection,
        entries.map((e) => e.ref as string),
        maxKeysPerDelete,
        ctx,
        schedule,
      ),
  };
}

export interface EsRouteView {
  collection: string;
  field: string;
}

const ES_VOLATILE = new Set(['time']);
const SEP = '\u0000';

/**
 * `splunk_es`: the ES threat-intel collections the routes name (shared with ES's other intel
 * sources: their rows are foreign). `rowOf` is the row the sink writes (without `_key` and `time`).
 */
export function esReconciler(
  kv: KvClient,
  routes: Record<string, EsRouteView>,
  rowOf: (r: SinkRecord, route: EsRouteView) => Doc,
  maxKeysPerDelete: number,
): SinkReconciler {
  const collections = [...new Set(Object.values(routes).map((r) => r.collection))].sort();
  const fieldsOf = (c: string) => [
    ...new Set(
      Object.values(routes)
        .filter((r) => r.collection === c)
        .map((r) => r.field),
    ),
  ];
  return {
    describe: () => `ES threat-intel collections ${collections.join(', ')} in ${kv.app}`,
    async *read(ctx, schedule) {
      for (const c of collections) {
        const fields = fieldsOf(c);
        for await (const docs of readCollection(kv, c, ctx, schedule)) {
          yield docs.map((d): RemoteEntry => {
            const key = d._key as string;
            const value = fields.map((f) => d[f]).find((v) => typeof v === 'string' && v !== '');
            return {
              key: `${c}${SEP}${key}`,
              digest: docDigest(d, ES_VOLATILE),
              foreign: !OWN_KEY.test(key),
              ref: [c, key],
              label: `${c} ${typeof value === 'string' ? value : key}`,
              recordKey: key,
            };
          });
        }
      }
    },
    expected(r) {
      const route = routes[r.observable.type];
      if (!route) return undefined; // the push path rejects values of unrouted types
      return {
        key: `${route.collection}${SEP}${r.key}`,
        digest: docDigest(rowOf(r, route), ES_VOLATILE),
        label: `${route.collection} ${r.observable.value}`,
      };
    },
    async removeExtra(entries, ctx, schedule) {
      const by = new Map<string, string[]>();
      for (const e of entries) {
        const [c, key] = e.ref as [string, string];
        by.set(c, [...(by.get(c) ?? []), key]);
      }
      for (const [c, keys] of by) await deleteKeys(kv, c, keys, maxKeysPerDelete, ctx, schedule);
    },
  };
}
