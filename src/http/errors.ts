import { StixgateError, type ErrorCode, errorMessage } from '../core/errors.js';
import { parseRetryAfter } from '../core/backoff.js';
import { redactUrl, SSRF_LOOKUP_CODE } from './ssrf.js';

/** Statuses retried automatically (when the request is idempotent). */
export const RETRY_STATUSES = [429, 500, 502, 503, 504];

export interface FailExtra {
  retryable?: boolean;
  retryAfterMs?: number;
  cause?: unknown;
  detail?: string;
}

/** Builds the one error shape of the client: `<component>: <METHOD> <redacted url>: [detail ](reason)`. */
export function httpError(
  component: string,
  code: ErrorCode,
  method: string,
  url: string,
  reason: string,
  extra: FailExtra = {},
): StixgateError {
  const { detail, ...rest } = extra;
  return new StixgateError(
    code,
    `${component}: ${method} ${redactUrl(url)}: ${detail ? `${detail} ` : ''}(${reason})`,
    { reason, ...rest },
  );
}

/** The first errno-like code on an error or its causes (undici wraps node errors). */
export function errnoCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && typeof cur === 'object' && cur !== null; i++) {
    const code = 'code' in cur ? cur.code : undefined;
    if (typeof code === 'string' && code !== 'UND_ERR_ABORTED') return code;
    cur = 'cause' in cur ? cur.cause : undefined;
  }
  return undefined;
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_OSSL)/;

export interface TransportContext {
  component: string;
  method: string;
  url: string;
  /** The total deadline fired. */
  timedOut: boolean;
  /** The caller's signal aborted. */
  callerAborted: boolean;
  /** The body cap, named when a decoder stage exceeds it. */
  maxBytes: number;
}

/** The error for a body over the cap (raw or decoded bytes). */
export function tooLargeError(component: string, method: string, url: string, maxBytes: number): StixgateError {
  return new StixgateError(
    'STIXGATE_ERR_INPUT_TOO_LARGE',
    `${component}: ${method} ${redactUrl(url)}: body exceeds ${maxBytes} bytes (too_large)`,
    { reason: 'too_large' },
  );
}

/** Maps a transport error (undici, node, zlib) to a StixgateError with a stable reason. */
export function transportError(e: unknown, t: TransportContext): StixgateError {
  if (e instanceof StixgateError) return e;
  const fail = (code: ErrorCode, reason: string, extra: FailExtra = {}): StixgateError =>
    httpError(t.component, code, t.method, t.url, reason, { cause: e, ...extra });
  if (t.callerAborted)
    return new StixgateError('STIXGATE_ERR_JOB_ABORTED', `${t.component}: ${t.method} ${redactUrl(t.url)}: aborted`, {
      reason: 'aborted',
      cause: e,
    });
  if (t.timedOut) return fail('STIXGATE_ERR_HTTP_TIMEOUT', 'timeout_total', { retryable: true });
  const code = errnoCode(e);
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
      return fail('STIXGATE_ERR_HTTP_TIMEOUT', 'timeout_headers', { retryable: true });
    case 'UND_ERR_BODY_TIMEOUT':
      return fail('STIXGATE_ERR_HTTP_TIMEOUT', 'timeout_body', { retryable: true });
    case 'UND_ERR_CONNECT_TIMEOUT':
      return fail('STIXGATE_ERR_HTTP_TIMEOUT', 'timeout_connect', { retryable: true });
    case SSRF_LOOKUP_CODE:
      return fail('STIXGATE_ERR_HTTP_SSRF', 'ssrf');
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
      return tooLargeError(t.component, t.method, t.url, t.maxBytes);
    case 'UND_ERR_REQ_RETRY':
      return fail('STIXGATE_ERR_HTTP_NETWORK', 'reset', { retryable: true });
    case 'ECONNREFUSED':
      return fail('STIXGATE_ERR_HTTP_NETWORK', 'refused', { retryable: true });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return fail('STIXGATE_ERR_HTTP_NETWORK', 'dns', { retryable: code !== 'EAI_FAIL' });
    case 'Z_DATA_ERROR':
    case 'Z_BUF_ERROR':
    case 'ERR_BROTLI_DECOMPRESSION_FAILED':
    case 'ERR__ERROR_FORMAT_PADDING_1':
      return fail('STIXGATE_ERR_INPUT_ENCODING', 'decompress');
    case 'UND_ERR_PRX_TLS':
      return fail('STIXGATE_ERR_HTTP_NETWORK', 'proxy');
  }
  // the peer's certificate or protocol was refused: the code says which (CERT_HAS_EXPIRED, …)
  if (code && (TLS_CODE.test(code) || code === 'HOSTNAME_MISMATCH'))
    return fail('STIXGATE_ERR_HTTP_NETWORK', 'tls', { detail: `TLS refused: ${code}` });
  if (/^Proxy response \(\d+\)/.test(errorMessage(e)))
    return fail('STIXGATE_ERR_HTTP_NETWORK', 'proxy', { retryable: true, detail: errorMessage(e) });
  // ECONNRESET, EPIPE, UND_ERR_SOCKET (closed mid-body), content-length mismatch, premature close
  return fail('STIXGATE_ERR_HTTP_NETWORK', 'reset', { retryable: true });
}

/** The error for an unexpected status; 429 and 5xx carry the server's Retry-After. */
export function statusError(
  component: string,
  status: number,
  retryAfter: string | undefined,
  method: string,
  url: string,
  nowMs: number,
): StixgateError {
  const retryAfterMs = parseRetryAfter(retryAfter, nowMs);
  const detail = `status ${status}`;
  const fail = (reason: string, extra: FailExtra): StixgateError =>
    httpError(component, 'STIXGATE_ERR_HTTP_STATUS', method, url, reason, extra);
  if (status === 429) return fail('status_429', { retryable: true, retryAfterMs, detail });
  if (status >= 500) return fail('status_5xx', { retryable: RETRY_STATUSES.includes(status), retryAfterMs, detail });
  const hint = status === 401 || status === 403 ? ', check the credentials configured for this component' : '';
  return fail('status_4xx', { detail: `${detail}${hint}` });
}
