import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import { EDL_KINDS, type EdlKind, type EdlLists, type Snapshot } from '../edl/index.js';
import type { Logger } from '../telemetry/logger.js';
import type { EdlMetrics } from '../telemetry/edl-metrics.js';
import type { Socket } from 'node:net';
import type { Authenticator, Principal } from './auth.js';
import { CACHE_CONTROL, edlAnswer, edlRequestCounters, TEXT } from './edl.js';
import { clientBucketOf } from './networks.js';
import type { RateLimiter } from './rate-limit.js';

export interface EdlLeanOptions {
  lists: EdlLists;
  auth: Authenticator;
  limiter: RateLimiter;
  /** Basic credentials are taken (`edl.basic_auth`). */
  basicAuth: boolean;
  /** `server.max_url_bytes`: a longer target is fastify's to refuse (414). */
  maxUrlBytes: number;
  /** Proxies are trusted (`server.trusted_proxies`): a request with X-Forwarded-For goes to fastify, which resolves the client's address. */
  trustProxy: boolean;
  metrics?: EdlMetrics;
  logger: Logger;
}

/** The response heads of one snapshot: 200, 304 to a GET, 304 to a HEAD. */
interface Heads {
  ok: string[];
  notModified: string[];
  headNotModified: string[];
}

const byServer = new WeakMap<object, EdlLeanPath>();

/** The lean path serving `app` (none when firewall lists are off or `lean: false`). */
export function leanPathOf(app: object): EdlLeanPath | undefined {
  return byServer.get(app);
}

/** Registers `lean` as `app`'s lean path (for `leanPathOf`). */
export function attachLeanPath(app: object, lean: EdlLeanPath): EdlLeanPath {
  byServer.set(app, lean);
  return lean;
}

/** The route pattern the audit line names (as fastify's route does). */
const ROUTE = '/edl/:list/:kind';

/**
 * The lean path for firewall lists (ADR 0015): a plain GET or HEAD of a configured list by a key
 * that may read it is answered here on node's http server, before fastify: the same key check
 * (`Authenticator.identify`), scope, list ceiling, rate limits (address and key buckets, taken
 * together or not at all), validators and bytes as the fastify route, without its hook chain.
 * Anything else (no or a wrong key, a refusal of any kind, a query string, a body, an encoded or
 * unknown path, X-Forwarded-For from behind trusted proxies, a closing server) is not answered
 * here and nothing is consumed: fastify answers it exactly as before.
 */
export class EdlLeanPath {
  /** Requests answered here (an operation count for tests). */
  answered = 0;
  /** Set when the server starts closing: fastify answers (503) from then on. */
  closing = false;
  private readonly routes = new Map<string, { list: string; kind: EdlKind }>();
  private readonly counters?: ReturnType<typeof edlRequestCounters>;
  private readonly heads = new WeakMap<Snapshot, Heads>();
  /** The key last identified on each connection, with the header values that presented it. */
  private readonly identified = new WeakMap<
    Socket,
    { authorization?: string; apiKey?: string | string[]; keyId: string }
  >();

  constructor(private readonly o: EdlLeanOptions) {
    for (const list of o.lists.names)
      for (const kind of EDL_KINDS) this.routes.set(`/edl/${list}/${kind}`, { list, kind });
    this.counters = o.metrics && edlRequestCounters(o.metrics);
  }

  /** Answers `req` and returns true, or returns false having consumed nothing (fastify answers it). */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const url = req.url ?? '';
    const route = this.routes.get(url);
    if (route === undefined || this.closing || url.length > this.o.maxUrlBytes) return false;
    const h = req.headers;
    if (h['content-type'] !== undefined || h['content-length'] !== undefined || h['transfer-encoding'] !== undefined)
      return false;
    if (this.o.trustProxy && h['x-forwarded-for'] !== undefined) return false;
    const started = performance.now();
    const ip = req.socket.remoteAddress ?? '';
    const p = this.principalOf(req, ip);
    if (!p?.keyId || !p.scopes.has('edl')) return false;
    const a = edlAnswer(this.o.lists, route.list, route.kind, p.maxTlp, h);
    if ('error' in a) return false;
    if (!this.o.limiter.takeBoth(clientBucketOf(ip), p.keyId)) return false;
    const head = this.headsOf(a.snapshot);
    if (a.status === 304) {
      res.writeHead(304, method === 'GET' ? head.notModified : head.headNotModified);
      res.end();
    } else {
      res.writeHead(200, head.ok);
      res.end(method === 'GET' ? a.snapshot.body : undefined);
    }
    this.answered++;
    this.counters?.(route.list, a.status).inc();
    if (this.o.logger.isLevelEnabled('info')) {
      this.o.logger.info(
        { key_id: p.keyId, method, route: ROUTE, status: a.status, ms: Math.round(performance.now() - started) },
        'api call',
      );
    }
    return true;
  }

  /**
   * The caller's principal. A device polls over a keep-alive connection with the same credentials
   * each time: once a key was identified on a connection, the same header values on it name the
   * same key, so only its expiry and `allowed_networks` are checked again (`identifyById`), not
   * its hash (the SHA-256 and the comparison with every configured hash cost more than the rest
   * of the lean path). Nothing is learnt across connections or from a refused key.
   */
  private principalOf(req: IncomingMessage, ip: string): Principal | null | undefined {
    const h = req.headers;
    const known = this.identified.get(req.socket);
    if (known !== undefined && known.authorization === h.authorization && known.apiKey === h['x-api-key'])
      return this.o.auth.identifyById(known.keyId, ip);
    const p = this.o.auth.identify({ headers: h, ip }, this.o.basicAuth);
    if (p?.keyId)
      this.identified.set(req.socket, { authorization: h.authorization, apiKey: h['x-api-key'], keyId: p.keyId });
    return p;
  }

  /** The response heads of a snapshot (built once per body), in the order and case the fastify route sends them. */
  private headsOf(s: Snapshot): Heads {
    let h = this.heads.get(s);
    if (!h) {
      const validators = ['etag', s.etag, 'last-modified', s.lastModifiedHttp, 'cache-control', CACHE_CONTROL];
      // fastify's HEAD route sends `content-length: 0` on a 304 (its HEAD hook counts the empty payload)
      h = {
        ok: [...validators, 'content-type', TEXT, 'content-length', String(s.body.length)],
        notModified: validators,
        headNotModified: [...validators, 'content-length', '0'],
      };
      this.heads.set(s, h);
    }
    return h;
  }
}

/**
 * Fastify `serverFactory`: node's http server as fastify builds it (the same `http` options and
 * timeouts), whose request listener offers each request to the lean path first (`lean()`: set
 * once the routes exist) and hands every other one to fastify.
 */
export function edlServerFactory(
  lean: () => EdlLeanPath | undefined,
): (handler: RequestListener, options: Record<string, unknown>) => Server {
  return (handler, options) => {
    const opts = options as {
      http?: ServerOptions;
      keepAliveTimeout: number;
      requestTimeout: number;
      connectionTimeout: number;
    };
    const server = createServer(opts.http ?? {}, (req, res) => {
      if (lean()?.handle(req, res)) return;
      handler(req, res);
    });
    server.keepAliveTimeout = opts.keepAliveTimeout;
    server.requestTimeout = opts.requestTimeout;
    server.setTimeout(opts.connectionTimeout);
    return server;
  };
}
