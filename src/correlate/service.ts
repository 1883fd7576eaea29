import type { TlpLevel } from '../core/stix.js';
import type { Store } from '../store/contract.js';
import type { RelatedOptions, RelatedResult, RelatedSummary } from './related.js';

/**
 * What the server and the daemon's jobs use of a correlation index: the embedded one
 * (Correlator, SQLite) or the shared one on OpenSearch (SharedCorrelation).
 */
export interface CorrelationIndex {
  related(store: Store, id: string, o?: RelatedOptions): Promise<RelatedResult | undefined>;
  /** Names of the SDOs linked directly to an object. */
  summary(id: string, maxTlp?: TlpLevel): Promise<RelatedSummary>;
  /**
   * The same, answered synchronously (the lookup hot path); absent on an index that answers only
   * through the network.
   */
  relatedSummary?(id: string, maxTlp?: TlpLevel): RelatedSummary;
  /** Follows the change log now (after an ingest). */
  catchUp(store: Store, opts?: { pageSize?: number }): Promise<unknown>;
}
