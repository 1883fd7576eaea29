export {
  Correlator,
  DEFAULT_MAX_FANOUT,
  type CorrelatorOptions,
  type CatchUpResult,
  type RelatedOptions,
  type RelatedItem,
  type RelatedResult,
  type RelatedSummary,
  type CorrelatorStats,
} from './correlator.js';
export { CorrelationMetrics } from './metrics.js';
export { correlationSchema, type CorrelationConfig } from './schema.js';
export { CORRELATION_DB_FILE } from './db.js';
export { DERIVATIONS, type Derivation } from './writer.js';
export type { PathStep } from './query.js';
export type { CorrelationIndex } from './service.js';
export { SharedCorrelation } from './opensearch.js';
