import { safeJsonParse } from '../../src/core/safe-json.js';
import { createHash, randomInt } from 'node:crypto';
import { StixgateError } from '../../src/core/errors.js';
import type { SinkRunContext } from '../../src/delivery/types.js';

/**
 * Cortex XSOAR REST over the engine's HttpClient: the API path of each server
 * generation, the API-key headers (XSOAR 8 advanced keys: a fresh nonce, timestamp and SHA-256
 * hash per request), 401/403 turned into STIXGATE_ERR_SINK_AUTH, XSOAR's error envelope read
 * into messages. 429/5xx are left to the HttpClient, which throws them as retryable errors
 * carrying Retry-After.
 */

export interface XsoarEndpoint {
  url: string;
  apiKey: string;
  version: number;
  authId?: number;
  keyType: 'standard' | 'advanced';
  tenant?: string;
  apiPath?: string;
}

/** The parts of an IocObject the sink reads or writes back. */
export interface IocObject {
  id: string;
  version: number;
  value: string;
  indicator_type?: string;
  score?: number;
  manualScore?: boolean;
  sourceBrands?: string[];
  [k: string]: unknown;
}

export interface Reply {
  status: number;
  body: unknown;
  /** The detail of an XSOAR error envelope (or the start of the body). */
  detail: string;
}

const NONCE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** XSOAR's `{"id","status","title","detail","error"}` envelope as one line. */
export function detailOf(text: string): string {
  try {
    const v = JSON.parse(text) as { title?: unknown; detail?: unknown; error?: unknown };
    const parts = [v.detail, v.error].filter((x): x is string => typeof x === 'string' && x !== '');
    if (parts.length) return [...new Set(parts)].join(': ');
    if (typeof v.title === 'string') return v.title;
  } catch {
    /* not JSON */
  }
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 200 ? `${t.slice(0, 200)}…` : t || '(empty body)';
}

export function protocolError(component: string, what: string): StixgateError {
  return new StixgateError('STIXGATE_ERR_SINK_PROTOCOL', `${component}: ${what}`, { reason: 'protocol' });
}

export class XsoarClient {
  readonly base: string;
  readonly component: string;

  constructor(private readonly e: XsoarEndpoint) {
    const root = e.url.replace(/\/+$/, '');
    const prefix =
      e.version === 8 ? (e.apiPath ?? '/xsoar/public/v1') : e.tenant ? `/acc_${encodeURIComponent(e.tenant)}` : '';
    this.base = `${root}${prefix}`;
    this.component = `xsoar ${this.base}`;
  }

  /** Authentication headers of one request (a new nonce and timestamp each time for advanced keys). */
  authHeaders(now = Date.now()): Record<string, string> {
    if (this.e.version !== 8) return { authorization: this.e.apiKey };
    const h: Record<string, string> = { 'x-xdr-auth-id': String(this.e.authId) };
    if (this.e.keyType === 'standard') return { ...h, authorization: this.e.apiKey };
    let nonce = '';
    for (let i = 0; i < 64; i++) nonce += NONCE_CHARS[randomInt(NONCE_CHARS.length)];
    const timestamp = String(now);
    return {
      ...h,
      'x-xdr-nonce': nonce,
      'x-xdr-timestamp': timestamp,
      authorization: createHash('sha256').update(`${this.e.apiKey}${nonce}${timestamp}`).digest('hex'),
    };
  }

  /** POST a JSON body; returns 2xx and the 4xx statuses XSOAR uses for per-request problems. */
  async post(ctx: SinkRunContext, path: string, body: unknown, idempotent: boolean): Promise<Reply> {
    const res = await ctx.http.request({
      url: `${this.base}${path}`,
      method: 'POST',
      headers: { ...this.authHeaders(), 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      okStatuses: [400, 401, 403, 404, 409, 413, 422],
      idempotent,
      signal: ctx.signal,
    });
    const text = await res.text();
    const detail = res.status >= 400 ? detailOf(text) : '';
    if (res.status === 401 || res.status === 403) {
      throw new StixgateError(
        'STIXGATE_ERR_SINK_AUTH',
        `${this.component}: XSOAR refused the API key (${res.status}: ${detail}); the sink is paused until the key is fixed`,
        { reason: `status_${res.status}` },
      );
    }
    let parsed: unknown;
    if (text !== '' && res.status < 400) {
      const r = safeJsonParse(text);
      if (!r.ok) {
        throw protocolError(
          this.component,
          `${path} answered ${res.status} with a body that is not JSON (${r.message}): ${detailOf(text)}`,
        );
      }
      parsed = r.value;
    }
    return { status: res.status, body: parsed, detail };
  }

  /** `/indicators/search` for one query page. */
  async search(ctx: SinkRunContext, query: string, size: number): Promise<{ iocObjects: IocObject[]; total: number }> {
    const r = await this.post(ctx, '/indicators/search', { query, size, page: 0 }, true);
    if (r.status !== 200)
      throw new StixgateError(
        'STIXGATE_ERR_HTTP_STATUS',
        `${this.component}: /indicators/search answered ${r.status}: ${r.detail}`,
        { reason: 'status_4xx' },
      );
    const b = r.body as { iocObjects?: unknown; total?: unknown } | undefined;
    const list = b?.iocObjects ?? [];
    if (
      !Array.isArray(list) ||
      list.some((i) => typeof (i as IocObject)?.id !== 'string' || typeof (i as IocObject).value !== 'string')
    ) {
      throw protocolError(this.component, '/indicators/search answered without an iocObjects list of {id, value}');
    }
    return { iocObjects: list as IocObject[], total: typeof b?.total === 'number' ? b.total : list.length };
  }
}

/** A query matching any of the values exactly: `value:("a" "b")` with quotes and backslashes escaped. */
export function valuesQuery(values: string[]): string {
  return `value:(${values.map((v) => `"${v.replace(/[\\"]/g, '\\$&')}"`).join(' ')})`;
}
