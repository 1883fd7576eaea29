import type { ObservableType } from '../../core/stix.js';
import type { ActiveIndicator } from '../contract.js';
import { parseObject } from './documents.js';

/** An active indicator read for a lookup, with the length of its stored JSON. */
export type LookupCandidate = ActiveIndicator & { bytes: number };

/** The store's search of the objects index (with its retries): the hits of one request. */
export type SearchObjects = (body: Record<string, unknown>) => Promise<Hit[]>;

/** Most values one request asks for (a batch lookup of many values is split). */
const MAX_TERMS = 4096;
/** Most hits per request (OpenSearch's default `index.max_result_window`). */
const MAX_PAGE = 10_000;

export interface Hit {
  _id: string;
  _source: { json: string; seq: number; obs?: { type: ObservableType; value: string }[] };
}

/**
 * The active indicators listing any of `values` (canonical observable values, the `values`
 * keyword field), in change-log order, at most `limit`: `terms` queries of up to 4,096 values, with
 * each indicator's stored observables (`obs`) so the caller knows which value it lists. Used by the
 * remote lookups (src/lookup/remote, docs/adr/0024-remote-lookups.md); `state: active` leaves out
 * revoked and expired indicators (a passed `valid_until` not yet marked is judged by the caller).
 */
export async function lookupCandidates(
  search: SearchObjects,
  values: readonly string[],
  limit: number,
): Promise<LookupCandidate[]> {
  const out: LookupCandidate[] = [];
  for (let i = 0; i < values.length && out.length < limit; i += MAX_TERMS) {
    const terms = values.slice(i, i + MAX_TERMS);
    // pages of at most 10,000 (the default max_result_window), continued after the last seq
    for (let after: number | undefined; out.length < limit; ) {
      const size = Math.min(MAX_PAGE, limit - out.length);
      const hits = await search({
        size,
        query: {
          bool: {
            filter: [{ terms: { values: terms } }, { term: { type: 'indicator' } }, { term: { state: 'active' } }],
          },
        },
        sort: [{ seq: 'asc' }],
        _source: ['json', 'seq', 'obs'],
        track_total_hits: false,
        ...(after !== undefined ? { search_after: [after] } : {}),
      });
      for (const h of hits)
        out.push({
          id: h._id,
          seq: h._source.seq,
          object: parseObject(h._source.json),
          observables: h._source.obs ?? null,
          bytes: h._source.json.length,
        });
      if (hits.length < size) break;
      after = hits.at(-1)?._source.seq;
    }
  }
  if (values.length > MAX_TERMS) out.sort((a, b) => a.seq - b.seq);
  return out;
}
