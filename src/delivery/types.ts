import type { Logger } from '../telemetry/logger.js';
import type { StixObject, TlpLevel, Observable, ObservableType } from '../core/stix.js';
import type { Schema } from '../core/schema.js';
import type { HttpClient } from '../http/types.js';
import type { NetworkConfig } from '../http/network.js';
import type { IntegrationContext, RunContext } from '../pipeline/types.js';
import type { SinkReconciler } from './reconcile-types.js';

// ---------------------------------------------------------------------------------------------
// Sinks (change-log consumers that push to a remote system; src/delivery/runner.ts)
// ---------------------------------------------------------------------------------------------

/**
 * One value to put into (or take out of) a remote system. The engine turns every indicator change
 * into one record per observable value of its pattern; the record carries the mapped fields of the
 * sink's mapping table (mappings/sinks/<type>.yaml, or the configured `mapping`).
 */
export interface SinkRecord {
  /** `upsert`: make the remote hold this value with these fields; `remove`: take it out. */
  op: 'upsert' | 'remove';
  /** Why a removal: `revoked`, `expired`, `score`, `warninglist`, `filtered`. */
  reason?: string;
  /** Change-log sequence this record comes from. */
  seq: number;
  /** Deterministic remote key: lower-case hex SHA-1 of `<observable type>:<canonical value>`. */
  key: string;
  /** The canonical observable. For files `hash` names the algorithm. */
  observable: Observable;
  /** The indicator (or SCO) as stored, with `x_stixgate`. */
  object: StixObject;
  score: number | null;
  tlp: TlpLevel;
  labels: string[];
  /** Configured source ids that delivered the object. */
  sources: string[];
  /** The mapping table applied to the record (field name → value; unset values left out). */
  fields: Record<string, unknown>;
}

/** What became of one record of a batch. Sinks return one outcome per record, in order. */
export type SinkOutcome =
  | { status: 'ok' }
  /** Transient (throttled, 5xx for this item, not yet acknowledged): the engine sends it again. */
  | { status: 'retry'; reason: string; retryAfterMs?: number }
  /** Permanent (400 for this item): written to the dead-letter file, never retried. */
  | { status: 'reject'; reason: string };

export interface SinkRunContext extends RunContext {
  /** Sinks that want a counter of their own (e.g. HEC unacknowledged batches) report here. */
  gauge?(name: 'unacked', value: number): void;
}

export interface SinkLimits {
  /** Records per request (the vendor's documented limit, or a smaller configured one). */
  maxBatch: number;
  /** Serialised bytes per request, when the vendor limits them. */
  maxBytes?: number;
  /** Requests in flight at once. */
  concurrency: number;
}

/**
 * A sink client. Whole-batch failures throw: StixgateError `SINK_AUTH` (401/403: the sink is paused,
 * its cursor kept), HTTP_* errors (429/5xx/timeouts: the batch is retried as a whole, honouring
 * Retry-After via `StixgateError.retryAfterMs`). Per-record problems come back as outcomes.
 * Every operation must be idempotent: the engine resends a batch whose outcome was unknown.
 */
export interface Sink {
  limits: SinkLimits;
  /** Creates what the remote side needs (collections, sets, fields). Idempotent; run before each push. */
  prepare?(ctx: SinkRunContext): Promise<void>;
  upsert(records: SinkRecord[], ctx: SinkRunContext): Promise<SinkOutcome[]>;
  remove(records: SinkRecord[], ctx: SinkRunContext): Promise<SinkOutcome[]>;
  /** Serialised size of one record as the sink will send it (for byte-limited batching). */
  sizeOf?(record: SinkRecord): number;
  /** Reaches the remote system without changing it; returns a short human summary. */
  probe?(ctx: SinkRunContext): Promise<string>;
  /** Reads the product back for reconcile (src/delivery/reconcile.ts); absent when it cannot be read. */
  reconciler?: SinkReconciler;
  /** Why a sink without a reconciler cannot be read back (shown by `stixgate plan`). */
  unreadable?: string;
}

/** The keys every sink accepts, handled by the engine (src/config/config-schema.ts `commonSinkSchema`). */
export interface CommonSinkConfig extends NetworkConfig {
  type: string;
  enabled: boolean;
  schedule?: string;
  interval_secs?: number;
  timezone?: string;
  /** Most permissive TLP pushed (objects above it are never sent). */
  max_tlp: TlpLevel;
  filters: {
    /** Observable types pushed (empty = all). */
    types: ObservableType[];
    min_score: number;
    /** Push only objects carrying one of these labels (empty = all). */
    labels: string[];
    exclude_labels: string[];
    /** Push only objects delivered by one of these sources (empty = all). */
    sources: string[];
  };
  /** Mapping table path (relative to the config file); default mappings/sinks/<type>.yaml. */
  mapping?: string;
  batch_size?: number;
  concurrency?: number;
  rate_limit?: { max_per_minute: number };
  timeout_secs: number;
  allow_private: boolean;
  allow_insecure: boolean;
  retry: { max_attempts: number; base_delay_secs: number; max_delay_secs: number };
}

export interface SinkDefinition<C = any> {
  kind: 'sink';
  type: string;
  summary: string;
  schema: Record<string, Schema<any>>;
  secretPaths: string[];
  /** Vendor limits the engine never exceeds, whatever the configuration says. */
  limits: SinkLimits;
  /** Top-level keys of its mapping table besides `fields` (the sink checks their content); any other key is refused. */
  mappingSections?: Record<string, Schema<any>>;
  create(config: C & CommonSinkConfig, ctx: IntegrationContext): Sink;
}
