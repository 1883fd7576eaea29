import type { Logger } from '../telemetry/logger.js';
import type { Rejection } from '../core/errors.js';
import type { StixObject, TlpLevel } from '../core/stix.js';
import type { Schema } from '../config/schema.js';

// ---------------------------------------------------------------------------------------------
// HTTP: every integration talks to the network through this client (src/pipeline/http.ts).
// ---------------------------------------------------------------------------------------------

export interface HttpPolicy {
  /** Time allowed for the response headers. */
  headersTimeoutMs: number;
  /** Longest silence allowed between body chunks. */
  bodyTimeoutMs: number;
  /** Deadline for the whole exchange, body included (a slow drip cannot outlive it). */
  totalTimeoutMs: number;
  /** Cap on decompressed body bytes; exceeding it aborts with reason `too_large`. */
  maxBytes: number;
  /** Redirects followed, same origin only, secret headers stripped otherwise refused. */
  maxRedirects: number;
  /** Permit loopback/private/link-local destinations (needed for loopback tests and lab feeds). */
  allowPrivate: boolean;
  /** Permit plain `http://`. */
  allowInsecure: boolean;
  /** Verify TLS certificates (never off by default). */
  verifyTls: boolean;
  caFile?: string;
  retry: RetryPolicy;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After honoured inside one run; longer waits end the run and are rescheduled. */
  maxRetryAfterMs: number;
}

export interface HttpRequest {
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Acceptable response media types (e.g. `application/json`); others fail with CONTENT_TYPE. */
  accept?: string[];
  /** Statuses returned to the caller instead of thrown (e.g. 304, 404). */
  okStatuses?: number[];
  signal?: AbortSignal;
  /** Whether the request may be retried automatically (default: GET/HEAD yes, others no). */
  idempotent?: boolean;
}

export interface HttpResponse {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Final URL after same-origin redirects. */
  url: string;
  /** The decompressed body, capped at `maxBytes`. Consume it once. */
  body: AsyncIterable<Buffer>;
  text(): Promise<string>;
  json(): Promise<unknown>;
  /** Discards the body without reading it. */
  dump(): Promise<void>;
}

export interface HttpClient {
  /** Throws StixgateError (HTTP_*) on transport errors and unexpected statuses, after retries. */
  request(req: HttpRequest): Promise<HttpResponse>;
}

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
export interface CommonSourceConfig {
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
  verify_tls: boolean;
  /** Reject the whole document when more than this share of its records are bad (0-1). */
  max_bad_ratio: number;
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
  create(config: C & CommonSourceConfig, ctx: IntegrationContext): Source;
}

export type IntegrationDefinition = SourceDefinition;
