import type { StixObject, TlpLevel, Observable, ObservableType } from '../core/stix.js';
import type { Schema } from '../core/schema.js';
import type { NetworkConfig } from '../http/network.js';
import type { IntegrationContext, RunContext } from '../pipeline/types.js';

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
  /** For the delivery ledger: every contribution of the stored object, `source=tlp` (src/delivery/ledger.ts). */
  contributions?: string;
  /** For the delivery ledger: which publish list withheld a `warninglist` removal's value, and its entries. */
  withheld?: { reason: 'warninglist' | 'allowlist'; detail: string };
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
  /**
   * How long the remote system keeps a value after its last push unless it is pushed again (QRadar's
   * time to live): the engine re-sends still-valid values within half of it (src/delivery/passes.ts).
   */
  remoteTtlMs?: number;
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
  /** Records sent but not yet committed at most (batch × concurrency is lowered to fit); default 2,000. */
  max_in_flight_records?: number;
  /** Re-send every still-valid value at least this often (default: half the sink's `remoteTtlMs`). */
  refresh_days?: number;
  /** Indicators the refresh looks at per run (default 20,000). */
  refresh_max_per_run?: number;
  rate_limit?: { max_per_minute: number };
  timeout_secs: number;
  allow_private: boolean;
  allow_insecure: boolean;
  retry: { max_attempts: number; base_delay_secs: number; max_delay_secs: number };
  /** A scheduled reconcile (src/delivery/reconcile.ts). */
  reconcile?: { schedule?: string; interval_secs?: number; apply: boolean };
}

export interface SinkDefinition<C = unknown> {
  kind: 'sink';
  type: string;
  summary: string;
  schema: Record<string, Schema<unknown>>;
  secretPaths: string[];
  /** Vendor limits the engine never exceeds, whatever the configuration says. */
  limits: SinkLimits;
  /** Top-level keys of its mapping table besides `fields` (the sink checks their content); any other key is refused. */
  mappingSections?: Record<string, Schema<unknown>>;
  create(config: C & CommonSinkConfig, ctx: IntegrationContext): Sink;
}

// ---------------------------------------------------------------------------------------------
// Reconcile (src/delivery/reconcile.ts)
// ---------------------------------------------------------------------------------------------
/**
 * What a sink that can be read back provides to reconcile (src/delivery/reconcile.ts,
 * docs/reconcile.md): its read API in pages, the entry it would write for a record, and removal of
 * entries it should not hold. Entries on both sides are matched by `key` and compared by `digest`.
 */

/** One entry the product holds, as read through its own read API. */
export interface RemoteEntry {
  /** Identity shared with `expected()`, e.g. the KV `_key`, `<set>\u0000<value>`, the lower-cased XSOAR value. */
  key: string;
  /** The compared projection of the entry's content: equal digests mean the entry is current. */
  digest: string;
  /** Not written by stixgate (another source, tool or analyst): counted and listed, never changed. */
  foreign?: boolean;
  /** What `removeExtra` needs to take the entry out (JSON; it is spilled to disk while sorting). */
  ref: unknown;
  /** For people: where and what, e.g. `ip_intel 1.2.3.4`. Never a secret. */
  label: string;
  /**
   * The value the entry holds, when the read can tell it: the delivery ledger records the removal
   * of an extra entry under it (`recordKey` when the entry is keyed by stixgate's record key).
   */
  value?: string;
  recordKey?: string;
}

/** The entry the product should hold for a record the push path would send as an upsert. */
export interface ExpectedEntry {
  key: string;
  digest: string;
  label: string;
}

/** Runs one request through the sink's limiter (the same Bottleneck as its pushes). */
export type Schedule = <T>(fn: () => Promise<T>) => Promise<T>;

export interface SinkReconciler {
  /** What is read, for plans and logs: e.g. `KV collection search/stixgate_iocs`. */
  describe(): string;
  /**
   * Reads everything the product holds in the sink's scope, a page at a time (each page one
   * request through `schedule`). Entries may come in any order; reconcile sorts them on disk.
   */
  read(ctx: SinkRunContext, schedule: Schedule): AsyncIterable<RemoteEntry[]>;
  /**
   * The entry the sink's upsert would leave for this record, or undefined when the sink never
   * holds such a record (a type it does not route: the push path rejects it to the dead-letter file).
   */
  expected(record: SinkRecord): ExpectedEntry | undefined;
  /** Takes these entries out (idempotent: an entry already gone is a removal done). */
  removeExtra(entries: RemoteEntry[], ctx: SinkRunContext, schedule: Schedule): Promise<void>;
  /**
   * Whether a held entry is current for an expected one, when digest equality is too strict (a
   * product that merges several sources into one entry); default: equal digests.
   */
  same?(remoteDigest: string, expectedDigest: string): boolean;
  /**
   * For a product whose read is filtered to stixgate's contribution (XSOAR): how many entries
   * outside it the product holds. They are counted as foreign, never read one by one.
   */
  foreignCount?(ctx: SinkRunContext, schedule: Schedule): Promise<number>;
}
