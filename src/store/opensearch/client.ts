import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, errors } from '@opensearch-project/opensearch';
import { backoffDelay } from '../../core/backoff.js';
import { StixgateError } from '../../core/errors.js';
import { errorCode, isRecord } from '../../core/guards.js';
import { tlsIssues, type OpenSearchStoreConfig } from './schema.js';

/** The parts of the configuration the connection needs. */
export type ConnectionConfig = Pick<OpenSearchStoreConfig, 'node' | 'auth' | 'tls' | 'request_timeout_secs'>;

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface Response<T> {
  statusCode: number;
  body: T;
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new StixgateError(
      'STIXGATE_ERR_CONFIG_INVALID',
      `store.tls.${what} ${path} could not be read (${errorCode(e) ?? 'error'})`,
      {
        location: { path: `store.tls.${what}` },
        reason: 'tls_file',
        cause: e,
      },
    );
  }
}

/** A client with no internal retries (the store retries per item) and TLS/auth from the config. */
export function createClient(cfg: ConnectionConfig): Client {
  const [issue] = tlsIssues(cfg);
  if (issue)
    throw new StixgateError('STIXGATE_ERR_CONFIG_INVALID', `${issue.path} ${issue.message}`, {
      location: { path: issue.path },
    });
  const headers: Record<string, string> = {};
  let auth: { username: string; password: string } | undefined;
  if (cfg.auth?.api_key !== undefined) headers.authorization = `ApiKey ${cfg.auth.api_key}`;
  else if (cfg.auth?.username !== undefined && cfg.auth.password !== undefined)
    auth = { username: cfg.auth.username, password: cfg.auth.password };
  const ssl: Record<string, unknown> = { rejectUnauthorized: cfg.tls.verify };
  if (cfg.tls.ca_file) ssl.ca = readPem(cfg.tls.ca_file, 'ca_file');
  if (cfg.tls.cert_file) ssl.cert = readPem(cfg.tls.cert_file, 'cert_file');
  if (cfg.tls.key_file) ssl.key = readPem(cfg.tls.key_file, 'key_file');
  return new Client({
    node: cfg.node,
    auth,
    headers,
    ssl,
    maxRetries: 0,
    requestTimeout: cfg.request_timeout_secs * 1000,
    compression: undefined,
    // We store the raw STIX JSON as a string field, so responses never carry user keys as keys;
    // keep the client's prototype-poisoning protection on.
  });
}

/** The error `type` OpenSearch reported, if any (e.g. `version_conflict_engine_exception`). */
export function errorType(e: unknown): string | undefined {
  if (e instanceof errors.ResponseError) {
    const body: unknown = e.meta?.body;
    const error = isRecord(body) ? body.error : undefined;
    if (isRecord(error) && typeof error.type === 'string') return error.type;
  }
  return undefined;
}

export function statusOf(e: unknown): number | undefined {
  return e instanceof errors.ResponseError ? e.statusCode : undefined;
}

/** True for failures where trying again later may succeed (network, timeout, 429, 5xx). */
export function isTransient(e: unknown): boolean {
  if (
    e instanceof errors.ConnectionError ||
    e instanceof errors.TimeoutError ||
    e instanceof errors.NoLivingConnectionsError
  )
    return true;
  if (e instanceof errors.ResponseError) return e.statusCode === 429 || e.statusCode >= 500;
  return false;
}

/** Maps a client error to a store error; the node URL is named, credentials never are. */
export function storeError(node: string, what: string, e: unknown): StixgateError {
  if (e instanceof StixgateError) return e;
  const status = statusOf(e);
  const detail =
    status !== undefined
      ? `HTTP ${status}${errorType(e) ? ` ${errorType(e)}` : ''}`
      : e instanceof Error
        ? e.message
        : String(e);
  const retryable = isTransient(e) || status === undefined;
  return new StixgateError(
    'STIXGATE_ERR_STORE_UNAVAILABLE',
    `OpenSearch ${safeUrl(node)}: ${what} failed (${detail})`,
    {
      retryable,
      reason:
        status === undefined
          ? 'unreachable'
          : status === 429
            ? 'throttled'
            : status >= 500
              ? 'server_error'
              : 'request_failed',
      cause: e,
    },
  );
}

/** The node URL without user info. */
export function safeUrl(node: string): string {
  try {
    const u = new URL(node);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '<invalid url>';
  }
}

/**
 * Runs `fn`, retrying transient failures with back-off, then throws a retryable
 * STIXGATE_ERR_STORE_UNAVAILABLE. Non-transient failures are thrown at once.
 */
export async function withRetry<T>(node: string, what: string, policy: RetryPolicy, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransient(e) || attempt + 1 >= policy.maxAttempts) throw storeError(node, what, e);
      await sleep(backoffDelay(attempt + 1, policy.baseDelayMs, policy.maxDelayMs));
    }
  }
}

export { sleep };
