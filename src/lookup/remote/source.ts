import type { ActiveIndicator } from '../../store/contract.js';

/** An active indicator fetched for a lookup, with the size of its stored JSON (the hot cache's weight). */
export interface Candidate extends ActiveIndicator {
  bytes: number;
}

/** Where remote lookups fetch indicators from (the OpenSearch store: src/store/opensearch/lookup-query.ts). */
export interface CandidateSource {
  /**
   * The active indicators (state active; a passed `valid_until` is the caller's to judge) listing
   * any of `values` (canonical), in change-log order, at most `limit`; with their stored
   * observables, so the caller knows which value each lists.
   */
  candidates(values: readonly string[], limit: number): Promise<Candidate[]>;
}

/** Whether a store answers candidate queries (the OpenSearch store does). */
export function isCandidateSource(store: object): store is CandidateSource {
  return 'candidates' in store && typeof store.candidates === 'function';
}
