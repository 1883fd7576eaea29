import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { tlpRank, type TlpLevel } from '../core/stix.js';
import { EDL_KINDS, type EdlKind, type EdlLists, type Snapshot } from '../edl/index.js';
import type { EdlMetrics } from '../telemetry/edl-metrics.js';
import type { Authenticator } from './auth.js';
import { ApiError, ERROR_SCHEMA } from './errors.js';

export interface EdlRoutesOptions {
  lists: EdlLists;
  auth: Authenticator;
  /** Accept HTTP Basic credentials (user: key id, password: key) as well as the key headers. */
  basicAuth: boolean;
  metrics?: EdlMetrics;
}

export const TEXT = 'text/plain; charset=utf-8';
export const CACHE_CONTROL = 'private, no-cache';
const errorBody = { description: 'a JSON error', ...ERROR_SCHEMA } as const;

/** The route's schemas: path parameters, the text body, 304 and the JSON errors. */
const schema = {
  summary: "A firewall list: one value per line in the list's vendor format",
  description:
    "Conditional GETs (If-None-Match, If-Modified-Since) are answered 304 without a body. Needs a key with the `edl` scope whose max_tlp is at or above the list's.",
  params: {
    type: 'object',
    required: ['list', 'kind'],
    additionalProperties: false,
    properties: {
      list: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$', description: 'a list name from `edl.lists`' },
      kind: { type: 'string', enum: EDL_KINDS, description: 'the kind of value listed' },
    },
  },
  headers: {
    type: 'object',
    properties: {
      'if-none-match': { type: 'string', description: 'entity tags of a copy held (answered 304 when one matches)' },
      'if-modified-since': {
        type: 'string',
        description:
          'HTTP date of a copy held (answered 304 when the list did not change since; ignored with If-None-Match)',
      },
    },
  },
  response: {
    200: {
      description: 'the list, one entry per line, each line ending in LF',
      content: { [TEXT]: { schema: { type: 'string' } } },
    },
    304: { description: 'not modified: the copy the client holds is current (no body)' },
    401: errorBody,
    403: errorBody,
    404: errorBody,
    503: errorBody,
  },
} as const;

/** What a request for a list is answered with, on either path (this route or the lean path). */
export type EdlAnswer = { error: ApiError } | { status: 200 | 304; snapshot: Snapshot };

/** Seconds a device is asked to wait while the lists are first being built. */
export const EDL_BUILD_RETRY_AFTER_SECS = 5;

/**
 * The answer for `list`/`kind` to a caller reading up to `ceiling`, from the request's
 * conditional headers: 404 for an unknown list or kind, 403 above the caller's ceiling, 503 with
 * Retry-After until the first build is ready, else 304 or 200 with the snapshot. Pure: nothing is
 * counted or consumed, so the lean path (src/server/edl-lean.ts) can ask before it answers.
 */
export function edlAnswer(
  lists: EdlLists,
  list: string,
  kind: EdlKind,
  ceiling: TlpLevel,
  headers: IncomingHttpHeaders,
): EdlAnswer {
  const r = lists.get(list, kind);
  if ('missing' in r) {
    return {
      error: new ApiError(
        404,
        'STIXGATE_ERR_API_NOT_FOUND',
        r.missing === 'list' ? 'no firewall list by this name' : 'this list serves no such kind',
      ),
    };
  }
  if (tlpRank(ceiling) < tlpRank(r.maxTlp)) {
    return {
      error: new ApiError(
        403,
        'STIXGATE_ERR_API_FORBIDDEN',
        `this API key may read up to TLP:${ceiling.toUpperCase()}; the list is a TLP:${r.maxTlp.toUpperCase()} view`,
      ),
    };
  }
  if (!lists.ready) {
    const secs = String(EDL_BUILD_RETRY_AFTER_SECS);
    return {
      error: new ApiError(
        503,
        'STIXGATE_ERR_API_UNAVAILABLE',
        `the firewall lists are being built; retry after ${secs} s`,
        { 'retry-after': secs },
      ),
    };
  }
  return { status: notModified(headers, r.snapshot) ? 304 : 200, snapshot: r.snapshot };
}

/**
 * `GET /edl/{list}/{kind}`: the prebuilt body of a firewall list (src/edl), with a strong ETag
 * (a hash of the body) and Last-Modified, and 304 for a conditional GET that holds the current
 * copy. Nothing here reads the store or builds a body. Plain GETs and HEADs of a configured list
 * are answered before this route by the lean path (ADR 0015); this route answers the rest
 * (refusals, unusual requests) and `inject()`.
 */
export function edlRoutes(app: FastifyInstance, o: EdlRoutesOptions): void {
  const onRequest = o.auth.require('edl', { basic: o.basicAuth });
  const counters = o.metrics && edlRequestCounters(o.metrics);
  app.get<{ Params: { list: string; kind: EdlKind } }>('/edl/:list/:kind', { onRequest, schema }, (req, reply) => {
    const { list, kind } = req.params;
    const a = edlAnswer(o.lists, list, kind, req.principal?.maxTlp ?? 'clear', req.headers);
    if ('error' in a) throw a.error;
    const s = a.snapshot;
    reply.header('etag', s.etag).header('last-modified', s.lastModifiedHttp).header('cache-control', CACHE_CONTROL);
    counters?.(list, a.status).inc();
    if (a.status === 304) return reply.code(304).send();
    return reply.header('content-type', TEXT).send(s.body);
  });
}

/**
 * `stixgate_edl_requests_total` children bound once per list and status, so counting a request
 * allocates nothing (no label object per request).
 */
export function edlRequestCounters(m: EdlMetrics): (list: string, status: 200 | 304) => { inc(): void } {
  const bound = new Map<string, { 200: { inc(): void }; 304: { inc(): void } }>();
  return (list, status) => {
    let b = bound.get(list);
    if (!b) {
      b = { 200: m.requests.labels({ list, status: '200' }), 304: m.requests.labels({ list, status: '304' }) };
      bound.set(list, b);
    }
    return b[status];
  };
}

/**
 * RFC 9110 §13.2.2: If-None-Match decides when present (weak comparison, `*` matches); else
 * If-Modified-Since, when it is a valid date, matches a list that has not changed since.
 */
export function notModified(headers: IncomingHttpHeaders, s: Snapshot): boolean {
  const inm = headers['if-none-match'];
  if (inm !== undefined) return inm === s.etag || etagListed(inm, s.etag);
  const ims = headers['if-modified-since'];
  if (ims === undefined) return false;
  const t = Date.parse(ims);
  return !Number.isNaN(t) && s.lastModified <= t;
}

function etagListed(header: string, etag: string): boolean {
  for (const raw of header.split(',')) {
    const tag = raw.trim();
    if (tag === '*') return true;
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === etag) return true;
  }
  return false;
}
