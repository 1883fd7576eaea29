import { safeJsonParse } from '../../src/core/safe-json.js';
import { StixgateError } from '../../src/core/errors.js';
import { abortableSleep } from '../../src/core/backoff.js';
import type { HttpResponse } from '../../src/http/types.js';
import type { SinkRunContext } from '../../src/delivery/types.js';

/**
 * A thin QRadar REST client over the engine's HttpClient: `SEC` or Basic auth,
 * the `Version` header, QRadar error bodies, `Range` paging and version detection. 401/403 become
 * STIXGATE_ERR_SINK_AUTH; statuses a call does not list are left to the HttpClient (429/5xx are
 * thrown as retryable HTTP errors with Retry-After).
 */

export interface QradarAuth {
  token?: string;
  username?: string;
  password?: string;
}

export interface QradarCall {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path below /api, already encoded. */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  range?: { start: number; end: number };
  /** Non-2xx statuses the caller interprets itself (401/403 are always handled here). */
  accept?: number[];
  /** Safe to resend (set operations are; default true). */
  idempotent?: boolean;
}

export interface QradarReply {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

/** QRadar's error body fields, when the reply carries one. */
export function qradarError(body: unknown): { code?: number; message?: string } {
  if (!body || typeof body !== 'object') return {};
  const b = body as { code?: unknown; message?: unknown };
  return {
    code: typeof b.code === 'number' ? b.code : undefined,
    message: typeof b.message === 'string' ? b.message : undefined,
  };
}

/** Encodes an element value twice, as QRadar decodes reference-data element values twice (§5.7). */
export const encodePathValue = (v: string): string => encodeURIComponent(encodeURIComponent(v));

/** Encodes a set name once: QRadar decodes it once, so a double-encoded name is not found. */
export const encodeSetName = (v: string): string => encodeURIComponent(v);

/** A QRadar filter string literal. */
export const filterString = (v: string): string => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** The newest API version this client has been checked against. */
export const NEWEST_KNOWN_VERSION = '26.0';

export class QradarClient {
  readonly api: string;
  private readonly authHeaders: Record<string, string>;
  version?: string;

  /** Names the sink in error messages (`qradar sink <id>` once a run context is seen). */
  component = 'qradar sink';

  constructor(url: string, auth: QradarAuth) {
    this.api = `${url.replace(/\/+$/, '').replace(/\/api$/, '')}/api`;
    this.authHeaders =
      auth.token !== undefined
        ? { SEC: auth.token }
        : { Authorization: `Basic ${Buffer.from(`${auth.username ?? ''}:${auth.password ?? ''}`).toString('base64')}` };
  }

  async call(ctx: SinkRunContext, c: QradarCall): Promise<QradarReply> {
    this.component = `qradar sink ${ctx.id}`;
    const qs = c.query ? `?${new URLSearchParams(c.query).toString()}` : '';
    const headers: Record<string, string> = { ...this.authHeaders };
    if (this.version) headers.Version = this.version;
    if (c.range) headers.Range = `items=${c.range.start}-${c.range.end}`;
    let body: string | undefined;
    if (c.body !== undefined) {
      body = JSON.stringify(c.body);
      headers['Content-Type'] = 'application/json';
    }
    const res: HttpResponse = await ctx.http.request({
      url: `${this.api}${c.path}${qs}`,
      method: c.method,
      headers,
      body,
      accept: ['application/json'],
      okStatuses: [401, 403, ...(c.accept ?? [])],
      idempotent: c.idempotent ?? true,
      signal: ctx.signal,
    });
    const text = await res.text();
    let parsed: unknown;
    if (text !== '') {
      const r = safeJsonParse(text);
      if (!r.ok) throw this.protocol(c, `answered ${res.status} with a body that is not JSON (${r.message})`);
      parsed = r.value;
    }
    if (res.status === 401 || res.status === 403) {
      const e = qradarError(parsed);
      throw new StixgateError(
        'STIXGATE_ERR_SINK_AUTH',
        `${this.component}: ${c.method} /api${c.path}: QRadar refused the credentials (${res.status}${e.code !== undefined ? ` code ${e.code}` : ''}); check the token or user and its capabilities`,
        { reason: `status_${res.status}` },
      );
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  /** A GET of a list, all pages (Range items=x-y, `pageSize` per request). */
  async list<T>(ctx: SinkRunContext, path: string, query: Record<string, string>, pageSize = 1000): Promise<T[]> {
    const out: T[] = [];
    for (let start = 0; ; start += pageSize) {
      const r = await this.call(ctx, { method: 'GET', path, query, range: { start, end: start + pageSize - 1 } });
      if (!Array.isArray(r.body)) throw this.protocol({ method: 'GET', path }, 'did not answer a JSON array');
      out.push(...(r.body as T[]));
      const total = /\/(\d+)\s*$/.exec(r.headers['content-range'] ?? '');
      if (r.body.length < pageSize || (total && start + pageSize >= Number(total[1]))) return out;
    }
  }

  /**
   * The API version to send: the configured one, or the newest the console lists in /help/versions
   * (not removed), capped at the newest this client knows.
   */
  async detectVersion(ctx: SinkRunContext): Promise<string> {
    const saved = this.version;
    this.version = undefined;
    try {
      const r = await this.call(ctx, { method: 'GET', path: '/help/versions', accept: [404] });
      if (r.status === 404 || !Array.isArray(r.body)) {
        throw new StixgateError(
          'STIXGATE_ERR_SINK_PROTOCOL',
          `${this.component}: the console does not list its API versions (/api/help/versions ${r.status}); set api_version in the sink configuration`,
          { reason: 'version' },
        );
      }
      const versions = (r.body as { version?: unknown; removed?: unknown }[])
        .filter((v) => typeof v.version === 'string' && /^\d+(\.\d+)?$/.test(v.version) && v.removed !== true)
        .map((v) => Number(v.version))
        .filter((v) => v <= Number(NEWEST_KNOWN_VERSION))
        .sort((a, b) => a - b);
      const best = versions.pop();
      if (best === undefined)
        throw new StixgateError(
          'STIXGATE_ERR_SINK_PROTOCOL',
          `${this.component}: /api/help/versions lists no usable API version`,
          { reason: 'version' },
        );
      return best.toFixed(1);
    } finally {
      this.version = saved;
    }
  }

  protocol(c: { method: string; path: string }, what: string): StixgateError {
    return new StixgateError('STIXGATE_ERR_SINK_PROTOCOL', `${this.component}: ${c.method} /api${c.path} ${what}`, {
      reason: 'protocol',
    });
  }

  /** An unexpected QRadar error reply as an error naming the call, the status and QRadar's code and message. */
  unexpected(c: { method: string; path: string }, r: QradarReply): StixgateError {
    const e = qradarError(r.body);
    return new StixgateError(
      'STIXGATE_ERR_SINK_PROTOCOL',
      `${this.component}: ${c.method} /api${c.path}: unexpected ${r.status}${e.code !== undefined ? ` code ${e.code}` : ''}${e.message ? `: ${e.message}` : ''}`,
      { reason: `status_${r.status}` },
    );
  }
}

/** The console refused the configured domain (unknown, or not one the credential may use): a configuration error. */
export function domainError(
  component: string,
  domainId: number | undefined,
  status: number,
  e: { code?: number; message?: string },
): StixgateError {
  return new StixgateError(
    'STIXGATE_ERR_CONFIG_INVALID',
    `${component}: domain_id ${domainId ?? 'SHARED'} refused (${status} code ${e.code ?? '?'}: ${e.message ?? ''}); set domain_id to a domain the token has access to`,
    { location: { path: 'domain_id' } },
  );
}

/** The console refused the namespace of a new set: a configuration error naming tenant_id. */
export function tenantError(
  component: string,
  tenantId: number | undefined,
  status: number,
  e: { code?: number; message?: string },
): StixgateError {
  return new StixgateError(
    'STIXGATE_ERR_CONFIG_INVALID',
    `${component}: the console refused a set in namespace ${tenantId === undefined ? 'SHARED' : `TENANT (tenant_id ${tenantId})`} (${status} code ${e.code ?? '?'}: ${e.message ?? ''}); a tenant's token needs tenant_id set to its tenant`,
    { location: { path: 'tenant_id' } },
  );
}

/** Sleeps for a task poll, ending early (with the abort error) when the run is aborted. */
export const pollSleep = (ms: number, signal: AbortSignal): Promise<void> => abortableSleep(ms, signal);
