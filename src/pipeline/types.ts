import type { Logger } from '../telemetry/logger.js';
import type { Rejection } from '../core/errors.js';
import type { StixObject, TlpLevel, Observable, ObservableType } from '../core/stix.js';
import type { Schema } from '../config/schema.js';

export type { HttpClient, HttpPolicy, HttpRequest, HttpResponse, RetryPolicy } from '../http/types.js';
import type { HttpClient } from '../http/types.js';
import type { NetworkConfig } from '../http/network.js';

// ---------------------------------------------------------------------------------------------
// Sources
// ---------------------------------------------------------------------------------------------

/** What one source item carries into the store. */
export interface MappedItem {
  object: StixObject;
  /** Confidence the source assigns (0-100), when known per record. */
  confidence?: number;
  /** When the source says it saw the record (RFC 3339). */
  seenAt?: string;
}

/** A page of mapped records and the cursor to commit once the store has accepted it. */
export interface Page {
  items: MappedItem[];
  rejections: Rejection[];
  /** Raw records read for this page (lines, rows, objects). */
  received: number;
  /**
   * The cursor after this page. Committed atomically with the page's objects. Undefined means
   * "no cursor change" (e.g. a page in the middle of a document).
   */
  cursor?: string;
}

export interface SourceRunContext {
  /** The configured source id. */
  id: string;
  logger: Logger;
  http: HttpClient;
  signal: AbortSignal;
  /** The injected clock (epoch ms). Mappers take time from here, never from Date.now(). */
  now: number;
  /** The last committed cursor, if any. */
  cursor?: string;
  /** Force a full fetch, ignoring conditional-GET cursors (`--full`). */
  full?: boolean;
}

export interface Source {
  /** Pages of one run, in order. The runner commits each page's cursor after the store accepted it. */
  pages(ctx: SourceRunContext): AsyncIterable<Page>;
  /** Reaches the remote system without ingesting; returns a short human summary. */
  probe?(ctx: SourceRunContext): Promise<string>;
}

/** The keys every source accepts, handled by the engine (scheduler, runner, HTTP policy). */
export interface CommonSourceConfig extends NetworkConfig {
  type: string;
  enabled: boolean;
  /** cron expression (node-cron syntax, UTC unless `timezone`). */
  schedule?: string;
  interval_secs?: number;
  timezone?: string;
  /** Default confidence (0-100) for objects without their own. */
  confidence?: number;
  /** TLP given to objects that carry no marking. */
  tlp: TlpLevel;
  labels: string[];
  /** Days an indicator stays valid after it was last seen, when the source gives no valid_until. */
  valid_days?: number;
  timeout_secs: number;
  max_feed_bytes: number;
  allow_private: boolean;
  allow_insecure: boolean;
  /** Reject the whole document when more than this share of its records are bad (0-1). */
  max_bad_ratio: number;
  /** Widest CIDR ranges accepted (the value gate, src/core/value-gate.ts). */
  min_prefix: { ipv4: number; ipv6: number };
  /** Values from this source are published even when a warninglist lists them. */
  trusted: boolean;
  retry: { max_attempts: number; base_delay_secs: number; max_delay_secs: number };
}

export interface IntegrationContext {
  logger: Logger;
  /** The configuration file's directory: relative paths in the config resolve from here. */
  configDir: string;
  /** The project's mappings directory. */
  mappingsDir: string;
}

export interface SourceDefinition<C = any> {
  kind: 'source';
  /** snake_case type id, the `type:` in YAML and FORMAT in `stixgate convert --from`. */
  type: string;
  summary: string;
  /** The integration's own keys; the engine adds CommonSourceConfig keys. */
  schema: Record<string, Schema<any>>;
  /** Dotted config paths holding secrets. */
  secretPaths: string[];
  /**
   * How a failed transfer is committed (docs/networks.md#atomic-documents):
   * `document`: the source reads whole documents through `openInput`, which downloads each one
   * completely before its first page: a transfer that fails commits nothing of that document and
   * leaves the cursor where it was.
   * `pages`: each page is its own request and carries its own cursor (TAXII, MISP API, OTX,
   * abuse.ch APIs): pages are independent, a failed request ends the run and the pages before it
   * stay committed with their cursor.
   */
  transfer: 'document' | 'pages';
  create(config: C & CommonSourceConfig, ctx: IntegrationContext): Source;
}

export type IntegrationDefinition = SourceDefinition | SinkDefinition | EnricherDefinition;

// ---------------------------------------------------------------------------------------------
// Sinks (change-log consumers that push to a remote system; src/pipeline/sink-runner.ts)
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

export interface SinkRunContext {
  id: string;
  logger: Logger;
  http: HttpClient;
  signal: AbortSignal;
  /** The injected clock (epoch ms). */
  now: number;
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
  create(config: C & CommonSinkConfig, ctx: IntegrationContext): Sink;
}

// ---------------------------------------------------------------------------------------------
// Enrichers (change-log consumers that add context; src/pipeline/enrich-runner.ts)
// ---------------------------------------------------------------------------------------------

/** The result of one enrichment lookup, stored as STIX and fed into the score. */
export interface EnrichmentResult {
  /** 0-100: how malicious the service thinks the value is; undefined when it has no opinion. */
  maliciousness?: number;
  /** STIX objects to store (notes, observed-data, SCOs with extensions, relationships). */
  objects: StixObject[];
  /** Values discovered (e.g. passive-DNS resolutions) for correlation. */
  related?: Observable[];
}

export interface Enricher {
  /** Observable types this service can enrich. */
  types: ObservableType[];
  /** One lookup; returns undefined when the service knows nothing about the value. Throws on errors. */
  enrich(observable: Observable, ctx: SinkRunContext): Promise<EnrichmentResult | undefined>;
}

export interface EnricherDefinition<C = any> {
  kind: 'enricher';
  type: string;
  summary: string;
  schema: Record<string, Schema<any>>;
  secretPaths: string[];
  /** The free tier's quota, the default rate limit. */
  defaultQuota: { per_minute?: number; per_day?: number };
  create(config: C, ctx: IntegrationContext): Enricher;
}
