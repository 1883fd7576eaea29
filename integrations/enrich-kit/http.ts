import { StixgateError } from '../../src/core/errors.js';
import { excerpt, safeJsonParse } from '../../src/core/safe-json.js';
import { parseRetryAfter } from '../../src/core/backoff.js';
import { redactUrl } from '../../src/http/ssrf.js';
import type { HttpResponse } from '../../src/http/types.js';
import type { SinkRunContext } from '../../src/delivery/types.js';

/**
 * The HTTP exchange every enricher shares, on top of the engine's HttpClient (which owns timeouts,
 * the byte cap, redirects, the SSRF policy and the content-type check): 404 means "the service
 * knows nothing" (undefined), 429 becomes a retryable error that always carries `retryAfterMs`
 * (the Retry-After header, or the service's documented window when it sends none), 401/403 become
 * SINK_AUTH. Every error names the enricher id, the service and the URL (query redacted).
 */

export interface ServiceRequest {
  /** Service name used in messages (`shodan`, `rdap`, `passive_dns`). */
  service: string;
  url: string;
  headers?: Record<string, string>;
  /** Media types accepted for a 200 answer. */
  accept: string[];
  /** Wait reported for a 429 without Retry-After (the service's rate window). */
  defaultRetryAfterMs: number;
}

export function where(ctx: SinkRunContext, req: Pick<ServiceRequest, 'service' | 'url'>): string {
  return `${ctx.id}: ${req.service} GET ${redactUrl(req.url)}`;
}

/** GET; returns the 200 response (body unread) or undefined for 404. Throws on everything else. */
export async function serviceGet(ctx: SinkRunContext, req: ServiceRequest): Promise<HttpResponse | undefined> {
  const res = await ctx.http.request({
    url: req.url,
    headers: req.headers,
    accept: req.accept,
    okStatuses: [401, 403, 404, 429],
    signal: ctx.signal,
  });
  if (res.status === 404) {
    await res.dump();
    return undefined;
  }
  if (res.status === 429) {
    await res.dump();
    const retryAfterMs = parseRetryAfter(res.headers['retry-after'], ctx.now) ?? req.defaultRetryAfterMs;
    throw new StixgateError(
      'STIXGATE_ERR_HTTP_STATUS',
      `${where(ctx, req)}: status 429, the service's rate limit or quota is exhausted; retry in ${Math.ceil(retryAfterMs / 1000)} s (status_429)`,
      {
        retryable: true,
        retryAfterMs,
        reason: 'status_429',
        location: { source: ctx.id },
      },
    );
  }
  if (res.status === 401 || res.status === 403) {
    await res.dump();
    throw new StixgateError(
      'STIXGATE_ERR_SINK_AUTH',
      `${where(ctx, req)}: status ${res.status}, the service refused the credentials configured for this enricher (auth)`,
      {
        reason: 'auth',
        location: { source: ctx.id },
      },
    );
  }
  if (res.status !== 200) {
    await res.dump();
    throw protocolError(ctx, req, `status ${res.status} is not an answer the API documents`);
  }
  if (!res.headers['content-type']) {
    await res.dump();
    throw new StixgateError(
      'STIXGATE_ERR_HTTP_CONTENT_TYPE',
      `${where(ctx, req)}: no content type, expected ${req.accept.join(' or ')} (content_type)`,
      {
        reason: 'content_type',
        location: { source: ctx.id },
      },
    );
  }
  return res;
}

/** Parses a JSON document of an answer; a parse failure names the service, the URL and the reason. */
export function parseJson(
  ctx: SinkRunContext,
  req: Pick<ServiceRequest, 'service' | 'url'>,
  text: string,
  line?: number,
): unknown {
  const r = safeJsonParse(text);
  if (r.ok) return r.value;
  throw new StixgateError(
    'STIXGATE_ERR_INPUT_PARSE',
    `${where(ctx, req)}: answer is not valid JSON: ${r.message}; starts ${excerpt(text, 60)} (json)`,
    {
      reason: 'json',
      location: { source: ctx.id, ...(line !== undefined ? { line } : {}) },
    },
  );
}

/** An answer that parses but does not have the documented shape. `path` is a JSON path (`$.ports[2]`). */
export function protocolError(
  ctx: SinkRunContext,
  req: Pick<ServiceRequest, 'service' | 'url'>,
  what: string,
  path?: string,
  line?: number,
): StixgateError {
  return new StixgateError('STIXGATE_ERR_SINK_PROTOCOL', `${where(ctx, req)}: ${what} (protocol)`, {
    reason: 'protocol',
    location: { source: ctx.id, ...(path ? { path } : {}), ...(line !== undefined ? { line } : {}) },
  });
}

/**
 * The probe every enricher shares: a GET of a fixed, harmless request (a documentation value, the
 * account or help document). 200 and 404 both prove the service answered and took the
 * credentials; auth, quota and protocol failures throw as in `serviceGet`.
 */
export async function probeGet(
  ctx: SinkRunContext,
  req: ServiceRequest,
  cost: string,
): Promise<{ summary: string; res?: HttpResponse }> {
  const res = await serviceGet(ctx, req);
  const answer = res ? 'HTTP 200' : 'HTTP 404 (nothing known)';
  return { summary: `${req.service} answered ${answer}, credentials accepted; ${cost}`, res };
}

export { isRecord } from '../../src/core/guards.js';
