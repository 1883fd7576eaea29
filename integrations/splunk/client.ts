import { StixgateError } from '../../src/core/errors.js';
import type { SinkRunContext } from '../../src/delivery/types.js';
import type { SplunkAuth } from './schema.js';

/**
 * Splunk REST over the engine's HttpClient: the authorization header of each
 * credential kind, 401/403 turned into STIXGATE_ERR_SINK_AUTH, Splunk's `{"messages":[…]}` error
 * bodies read into messages. 429/5xx are left to the HttpClient, which throws them as retryable
 * errors carrying Retry-After.
 */

export function authHeader(a: SplunkAuth): string {
  if ('token' in a) return `Splunk ${a.token}`;
  if ('bearer_token' in a) return `Bearer ${a.bearer_token}`;
  return `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`;
}

export interface RestCall {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path below the base URL, already encoded. */
  path: string;
  query?: Record<string, string>;
  /** A JSON body, already serialised. */
  json?: string;
  form?: URLSearchParams;
  /** Statuses returned instead of thrown (401/403 are always handled here). */
  ok?: number[];
  idempotent?: boolean;
}

export interface RestReply {
  status: number;
  text: string;
}

/** The texts of a Splunk `{"messages":[{"type","text"}]}` body (or the start of any other body). */
export function messagesOf(text: string): string {
  try {
    const v = JSON.parse(text) as { messages?: { text?: unknown }[]; text?: unknown };
    if (Array.isArray(v.messages)) {
      const t = v.messages
        .map((m) => (typeof m?.text === 'string' ? m.text : ''))
        .filter(Boolean)
        .join('; ');
      if (t) return t;
    }
    if (typeof v.text === 'string') return v.text;
  } catch {
    /* not JSON */
  }
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 200 ? `${t.slice(0, 200)}…` : t || '(empty body)';
}

export function authError(component: string, status: number, detail: string): StixgateError {
  return new StixgateError(
    'STIXGATE_ERR_SINK_AUTH',
    `${component}: Splunk refused the credentials (${status}: ${detail}); the sink is paused until they are fixed`,
    { reason: `status_${status}` },
  );
}

export function protocolError(component: string, what: string): StixgateError {
  return new StixgateError('STIXGATE_ERR_SINK_PROTOCOL', `${component}: ${what}`, { reason: 'protocol' });
}

export class SplunkRest {
  readonly base: string;

  constructor(
    base: string,
    private readonly authz: string,
    readonly component: string,
  ) {
    this.base = base.replace(/\/+$/, '');
  }

  async call(ctx: SinkRunContext, c: RestCall): Promise<RestReply> {
    const qs = new URLSearchParams({ output_mode: 'json', ...c.query }).toString();
    const headers: Record<string, string> = { authorization: this.authz };
    let body: string | undefined;
    if (c.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = c.json;
    } else if (c.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = c.form.toString();
    }
    const res = await ctx.http.request({
      url: `${this.base}${c.path}?${qs}`,
      method: c.method,
      headers,
      body,
      okStatuses: [...(c.ok ?? []), 401, 403],
      idempotent: c.idempotent,
      signal: ctx.signal,
    });
    const text = await res.text();
    if (res.status === 401 || res.status === 403) throw authError(this.component, res.status, messagesOf(text));
    return { status: res.status, text };
  }
}

export const enc = encodeURIComponent;

/** `major.minor` of a Splunk version string, compared numerically. */
export function versionAtLeast(version: string | undefined, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}
