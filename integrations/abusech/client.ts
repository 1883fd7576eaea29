import { StixgateError } from '../../src/core/errors.js';
import type { HttpClient } from '../../src/http/types.js';

/** `query_status` values that mean "nothing matched" (ThreatFox says `no_result`, the others `no_results`). */
const EMPTY_STATUSES = new Set(['no_results', 'no_result', 'no_data']);
/** `query_status` values that mean the Auth-Key is missing or wrong. */
const AUTH_STATUSES = new Set([
  'illegal_auth_key',
  'unknown_auth_key',
  'missing_auth_key',
  'invalid_auth_key',
  'user_blacklisted',
]);

export interface AbusechRequest {
  /** The configured source id, named in errors. */
  component: string;
  /** abuse.ch service name for messages: URLhaus, ThreatFox, MalwareBazaar. */
  service: string;
  url: string;
  method: 'GET' | 'POST';
  /** Form (`application/x-www-form-urlencoded`) or JSON body. */
  form?: Record<string, string>;
  json?: unknown;
  authKey: string;
  /** Key of the record list in the answer (`urls`, `payloads`, `data`). */
  listKey: string;
  signal: AbortSignal;
}

function bounded(v: unknown): string {
  const t = typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined');
  return t.replace(/[^\w.-]/g, '_').slice(0, 40);
}

function authError(r: AbusechRequest, what: string): StixgateError {
  return new StixgateError(
    'STIXGATE_ERR_HTTP_STATUS',
    `${r.component}: ${r.service} refused the Auth-Key (${what}): set auth_key to a valid key from https://auth.abuse.ch/ (auth)`,
    { reason: 'auth' },
  );
}

/**
 * One abuse.ch API call. Read-only queries are idempotent, so POSTs are retried like GETs (the
 * HTTP client honours Retry-After). Maps the answer's `query_status`: `ok` → the record list,
 * `no_results` → [], an auth status → a non-retryable `auth` error, anything else → a
 * `query_status` error naming the status.
 */
export async function abusechQuery(http: HttpClient, r: AbusechRequest): Promise<unknown[]> {
  // the HTTP client retries up to the response headers; a body cut off mid-way (a reset connection) is retried here
  for (let attempt = 1; ; attempt++) {
    try {
      return await queryOnce(http, r);
    } catch (e) {
      if (
        !(e instanceof StixgateError) ||
        !BODY_RETRY_REASONS.has(e.reason) ||
        attempt >= BODY_ATTEMPTS ||
        r.signal.aborted
      )
        throw e;
    }
  }
}

const BODY_RETRY_REASONS = new Set(['reset', 'timeout_body']);
const BODY_ATTEMPTS = 3;

async function queryOnce(http: HttpClient, r: AbusechRequest): Promise<unknown[]> {
  const headers: Record<string, string> = { 'auth-key': r.authKey };
  let body: string | undefined;
  if (r.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(r.form).toString();
  } else if (r.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(r.json);
  }
  const res = await http.request({
    url: r.url,
    method: r.method,
    headers,
    body,
    signal: r.signal,
    idempotent: true,
    accept: ['application/json', 'text/json'],
    okStatuses: [401, 403],
  });
  if (res.status === 401 || res.status === 403) {
    let status = '';
    try {
      const j = (await res.json()) as { query_status?: unknown } | null;
      if (j && typeof j === 'object' && j.query_status !== undefined) status = `, ${bounded(j.query_status)}`;
    } catch {
      /* the status code says enough */
    }
    throw authError(r, `HTTP ${res.status}${status}`);
  }
  const doc = await res.json();
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new StixgateError(
      'STIXGATE_ERR_INPUT_PARSE',
      `${r.component}: ${r.service} answer is not a JSON object (not_object)`,
      { reason: 'not_object' },
    );
  }
  const d = doc as Record<string, unknown>;
  const status = d.query_status;
  if (status === 'ok') {
    const list = d[r.listKey];
    if (list === null || list === undefined) return [];
    if (!Array.isArray(list)) {
      throw new StixgateError(
        'STIXGATE_ERR_INPUT_PARSE',
        `${r.component}: ${r.service} answer's "${r.listKey}" is not a list (not_list)`,
        { reason: 'not_list' },
      );
    }
    return list;
  }
  if (typeof status === 'string' && EMPTY_STATUSES.has(status)) return [];
  if (typeof status === 'string' && AUTH_STATUSES.has(status)) throw authError(r, status);
  throw new StixgateError(
    'STIXGATE_ERR_HTTP_STATUS',
    `${r.component}: ${r.service} answered query_status ${bounded(status)} (query_status)`,
    { reason: 'query_status' },
  );
}
