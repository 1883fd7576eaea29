/**
 * Stable error codes. Each code is listed in docs/errors.md; a test keeps the two in sync.
 * Codes are never reused. Messages never carry secrets.
 */
export const ERROR_CODES = {
  // configuration (fatal at start-up)
  STIXGATE_ERR_CONFIG_INVALID: 'configuration failed validation',
  STIXGATE_ERR_CONFIG_YAML: 'configuration is not valid YAML',
  STIXGATE_ERR_CONFIG_SECRET: 'a secret reference could not be resolved',
  // input that cannot be parsed or mapped (per record or per document)
  STIXGATE_ERR_INPUT_EMPTY: 'empty document',
  STIXGATE_ERR_INPUT_PARSE: 'document could not be parsed',
  STIXGATE_ERR_INPUT_TOO_LARGE: 'document, record or field exceeds a size limit',
  STIXGATE_ERR_INPUT_ENCODING: 'document is not valid text in the expected encoding',
  STIXGATE_ERR_INPUT_TOO_COMPLEX: 'document needs more work than its budget allows (references that fan out)',
  STIXGATE_ERR_INPUT_TOO_MANY_BAD_ROWS: 'share of rejected records exceeds the configured limit',
  STIXGATE_ERR_INPUT_POISON: 'document quarantined: earlier attempts to map it failed or did not finish',
  STIXGATE_ERR_OBSERVABLE_INVALID: 'observable value is not valid for its type',
  STIXGATE_ERR_STIX_INVALID: 'STIX object is invalid',
  STIXGATE_ERR_PATTERN_INVALID: 'STIX pattern could not be parsed',
  // upstream systems (retryable unless stated)
  STIXGATE_ERR_HTTP_STATUS: 'upstream answered with an error status',
  STIXGATE_ERR_HTTP_TIMEOUT: 'upstream request timed out',
  STIXGATE_ERR_HTTP_NETWORK: 'upstream could not be reached',
  STIXGATE_ERR_HTTP_REDIRECT: 'redirect refused',
  STIXGATE_ERR_HTTP_CONTENT_TYPE: 'unexpected content type',
  STIXGATE_ERR_HTTP_SSRF: 'destination refused by the SSRF policy',
  // store
  STIXGATE_ERR_STORE_LOCKED: 'data directory is in use by another process',
  STIXGATE_ERR_STORE_IO: 'store could not read or write its data directory',
  STIXGATE_ERR_STORE_CORRUPT: 'store failed its integrity check',
  STIXGATE_ERR_STORE_UNAVAILABLE: 'store is unavailable',
  STIXGATE_ERR_STORE_REPLACED: 'the shared store was deleted or replaced under this instance; restart to re-sync',
  // jobs
  STIXGATE_ERR_JOB_ABORTED: 'job aborted by shutdown',
  STIXGATE_ERR_JOB_TIMEOUT: 'job exceeded its watchdog timeout',
  STIXGATE_ERR_JOB_RUNNING: 'a run of the job was asked for while one is in progress',
  // sinks and enrichers
  STIXGATE_ERR_SINK_AUTH: 'the remote system refused the credentials (401/403); the sink is paused',
  STIXGATE_ERR_SINK_REJECTED: 'the remote system rejected an item permanently (written to the dead-letter file)',
  STIXGATE_ERR_SINK_PROTOCOL: 'the remote system answered something its API does not document',
  STIXGATE_ERR_SINK_UNREADABLE: 'the sink cannot be read back (Splunk HEC), so it cannot be reconciled',
  STIXGATE_ERR_ENRICH_QUOTA: 'an enrichment quota is exhausted; lookups wait for the next window',
  // API
  STIXGATE_ERR_API_UNAUTHORIZED: 'missing or invalid API key',
  STIXGATE_ERR_API_FORBIDDEN: 'API key lacks the required scope',
  STIXGATE_ERR_API_BAD_REQUEST: 'request failed validation',
  STIXGATE_ERR_API_TOO_LARGE: 'request exceeds a configured limit',
  STIXGATE_ERR_API_NOT_FOUND: 'not found',
  STIXGATE_ERR_API_UNAVAILABLE: 'service not ready',
  STIXGATE_ERR_API_INTERNAL: 'internal error (details in the log)',
  STIXGATE_ERR_API_UNSUPPORTED_MEDIA_TYPE: 'request body has an unsupported content type',
  STIXGATE_ERR_API_METHOD_NOT_ALLOWED: 'the route does not answer this method (405; `Allow` lists the methods it does)',
  STIXGATE_ERR_API_RATE_LIMITED: 'too many requests from this key or address (429; retry after `Retry-After` seconds)',
  STIXGATE_ERR_API_TIMEOUT: 'the request was not received within the configured header or request timeout (408)',
  STIXGATE_ERR_API_URI_TOO_LONG:
    'the request target is longer than `server.max_url_bytes` or a path parameter too long (414)',
  STIXGATE_ERR_API_HEADERS_TOO_LARGE: 'the request head is larger than `server.max_header_bytes` (431)',
  STIXGATE_ERR_API_NOT_ACCEPTABLE:
    'the `Accept` header names no media type the route answers in (406; TAXII routes answer `application/taxii+json;version=2.1`)',
  STIXGATE_ERR_API_CONFLICT: 'a run of this source or sink is already in progress (409)',
  STIXGATE_ERR_API_RUN_FAILED: 'a run asked for through the admin API failed; the message says why (502)',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Where in an input a problem was found. */
export interface Location {
  /** The configured source id (or a file name for one-shot commands). */
  source?: string;
  file?: string;
  line?: number;
  column?: number;
  /** Index of the record or object within its document. */
  index?: number;
  objectId?: string;
  /** A JSON/YAML path such as `sources.spamhaus.url`. */
  path?: string;
}

export function formatLocation(loc: Location | undefined): string {
  if (!loc) return '';
  const parts: string[] = [];
  if (loc.source) parts.push(`source ${loc.source}`);
  if (loc.file) parts.push(loc.file);
  if (loc.line !== undefined) parts.push(`line ${loc.line}${loc.column !== undefined ? `:${loc.column}` : ''}`);
  if (loc.index !== undefined) parts.push(`record ${loc.index}`);
  if (loc.objectId) parts.push(loc.objectId);
  if (loc.path) parts.push(`at ${loc.path}`);
  return parts.join(', ');
}

export class StixgateError extends Error {
  readonly code: ErrorCode;
  readonly location?: Location;
  /** True when trying again later may succeed. */
  readonly retryable: boolean;
  /** Milliseconds to wait before the next attempt, when the upstream said (Retry-After). */
  readonly retryAfterMs?: number;
  /** A short machine-readable reason used as a bounded metric label (e.g. `too_large`). */
  readonly reason: string;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { location?: Location; retryable?: boolean; retryAfterMs?: number; reason?: string; cause?: unknown } = {},
  ) {
    const where = formatLocation(opts.location);
    super(where ? `${message} (${where})` : message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'StixgateError';
    this.code = code;
    this.location = opts.location;
    this.retryable = opts.retryable ?? false;
    this.retryAfterMs = opts.retryAfterMs;
    this.reason = opts.reason ?? code.replace(/^STIXGATE_ERR_/, '').toLowerCase();
  }
}

/** A per-record problem: the record is skipped and counted, the page continues. */
export interface Rejection {
  reason: string;
  message: string;
  location?: Location;
}

export function isStixgateError(e: unknown): e is StixgateError {
  return e instanceof StixgateError;
}

/** The message of anything thrown: an Error's message, or the thrown value as text. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
