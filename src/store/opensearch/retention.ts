import type { ObservableType } from '../../core/stix.js';
import { ledgerRecordKey } from '../ledger.js';
import { purgeDue, RETENTION_CURSOR, type PurgeOptions, type PurgeResult } from '../retention.js';
import { sendBulk, type WriteContext, type WriteReport } from './bulk.js';
import { at } from '../../core/indexed.js';
import { parseObject } from './documents.js';
import { ledgerKeyOf } from './ledger-docs.js';
import type { MetaContext } from './leases.js';
import * as meta from './leases.js';

/** A search hit with its version (`seq_no_primary_term`). */
export interface VersionedHit<T> {
  _id: string;
  _source: T;
  _seq_no?: number;
  _primary_term?: number;
}

/** What the OpenSearch retention pass needs of the store (src/store/opensearch/store.ts). */
export interface PurgeContext {
  /** Bulk requests (their size limits, retries and client). */
  write: WriteContext;
  objects: string;
  meta: MetaContext;
  now: number;
  search<T>(index: string, body: Record<string, unknown>): Promise<VersionedHit<T>[]>;
  /** Deletes the settled ledger documents of these value keys (OpenSearchLedger.purgeSettled). */
  purgeLedger(valueKeys: string[]): Promise<number>;
  refresh(index: string): Promise<void>;
}

type Candidate = VersionedHit<{ json: string; seq: number; obs?: { type: ObservableType; value: string }[] }>;

/** Values per `terms` query when looking for objects that still list a purged value. */
const TERMS_CHUNK = 1000;
const STILL_LISTED_PAGE = 10_000;

/** Documents that may be due: a pre-filter on the indexed fields; `purgeDue` decides on the object itself. */
function dueQuery(o: PurgeOptions): Record<string, unknown> | undefined {
  const should: Record<string, unknown>[] = [];
  if (o.expiredBefore !== undefined)
    should.push({
      bool: {
        filter: [{ term: { state: 'expired' } }],
        must_not: [
          { range: { valid_until: { gt: o.expiredBefore } } },
          { range: { 'provenance.last_seen': { gt: o.expiredBefore } } },
        ],
      },
    });
  if (o.revokedBefore !== undefined)
    should.push({
      bool: {
        filter: [{ term: { state: 'revoked' } }],
        must_not: [{ range: { 'provenance.last_seen': { gt: o.revokedBefore } } }],
      },
    });
  if (should.length === 0) return undefined;
  return { bool: { filter: [{ range: { seq: { lte: o.maxSeq } } }], should, minimum_should_match: 1 } };
}

/**
 * One retention pass over the objects index (the caller refreshed it): finds at most `limit` due
 * documents, records the highest position in RETENTION_CURSOR, deletes each document only if it is
 * still the version read (a concurrent write wins), then deletes the settled ledger documents of
 * the values no remaining object lists.
 */
export async function purgeObjects(ctx: PurgeContext, o: PurgeOptions): Promise<PurgeResult> {
  const result: PurgeResult = { expired: 0, revoked: 0, ledgerRows: 0, purgedThrough: 0 };
  const query = dueQuery(o);
  if (!query || o.limit < 1) return result;
  const hits: Candidate[] = await ctx.search(ctx.objects, {
    size: o.limit,
    query,
    sort: [{ seq: 'asc' }],
    seq_no_primary_term: true,
    _source: ['json', 'seq', 'obs'],
  });
  const due = hits.filter((h) => purgeDue(parseObject(h._source.json), o));
  if (due.length === 0) return result;
  const top = Math.max(...due.map((h) => h._source.seq));
  const before = Number((await meta.getCursor(ctx.meta, RETENTION_CURSOR)) ?? 0);
  // recorded before any deletion: a reader that sees a document gone also sees the mark
  if (top > before) await meta.setCursor(ctx.meta, RETENTION_CURSOR, String(top), ctx.now);
  const gone = (await deleteVersions(ctx.write, ctx.objects, due)).map((i) => at(due, i));
  // the deleted documents leave searches before their values are looked up again
  await ctx.refresh(ctx.objects);
  for (const h of gone) {
    if (parseObject(h._source.json).revoked === true) result.revoked++;
    else result.expired++;
    result.purgedThrough = Math.max(result.purgedThrough, h._source.seq);
  }
  result.ledgerRows = await purgeLedger(ctx, gone);
  return result;
}

/** Deletes the settled ledger documents of the purged values that no remaining object lists. */
async function purgeLedger(ctx: PurgeContext, gone: Candidate[]): Promise<number> {
  const byValue = new Map<string, Set<string>>();
  for (const h of gone)
    for (const ob of h._source.obs ?? []) {
      let types = byValue.get(ob.value);
      if (!types) {
        types = new Set();
        byValue.set(ob.value, types);
      }
      types.add(ob.type);
    }
  const values = [...byValue.keys()];
  const keys: string[] = [];
  for (let i = 0; i < values.length; i += TERMS_CHUNK) {
    const chunk = values.slice(i, i + TERMS_CHUNK);
    const held = await stillListed(ctx, chunk);
    for (const v of chunk) {
      if (held.has(v)) continue;
      for (const t of byValue.get(v) ?? []) keys.push(ledgerKeyOf(ledgerRecordKey(t, v)));
    }
  }
  let deleted = 0;
  for (let i = 0; i < keys.length; i += TERMS_CHUNK) deleted += await ctx.purgeLedger(keys.slice(i, i + TERMS_CHUNK));
  return deleted;
}

/** Deletes each hit if it is still the version read; the positions (in `hits`) of those deleted. */
export async function deleteVersions(
  write: WriteContext,
  index: string,
  hits: readonly Omit<VersionedHit<unknown>, '_source'>[],
): Promise<number[]> {
  const ops = hits.map((h) => ({
    id: h._id,
    line: `${JSON.stringify({ delete: { _index: index, _id: h._id, if_seq_no: h._seq_no, if_primary_term: h._primary_term } })}\n`,
  }));
  const report: WriteReport = { written: new Map(), rejected: new Map(), requests: 0, conflicts: 0, retried: 0 };
  const results = await sendBulk(write, ops, report);
  const out: number[] = [];
  results.forEach((r, i) => {
    if (r.status === 200) out.push(i);
  });
  return out;
}

/**
 * The values of `chunk` that some stored object still lists. When more documents match than one
 * page holds, every value of the chunk counts as still listed (its ledger rows stay).
 */
async function stillListed(ctx: PurgeContext, chunk: string[]): Promise<Set<string>> {
  const wanted = new Set(chunk);
  const hits = await ctx.search<{ values?: string[] }>(ctx.objects, {
    size: STILL_LISTED_PAGE,
    query: { terms: { values: chunk } },
    _source: ['values'],
  });
  if (hits.length >= STILL_LISTED_PAGE) return wanted;
  const held = new Set<string>();
  for (const h of hits) for (const v of h._source.values ?? []) if (wanted.has(v)) held.add(v);
  return held;
}
