import { fastify, LogController, type FastifyInstance } from 'fastify';
import { inactiveMatches, type LookupIndex, type RemoteLookup } from '../lookup/index.js';
import type { Store } from '../store/contract.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { Authenticator, rateLimited } from './auth.js';
import { ApiError, clientErrorHandler, errorLabel, frameworkErrors, registerErrorHandling } from './errors.js';
import { methodNotAllowed } from './methods.js';
import { clientBucketOf } from './networks.js';
import { RateLimiter, type BucketRate } from './rate-limit.js';
import { healthRoutes } from './health.js';
import { lazyChildLogger } from './lazy-logger.js';
import { lookupRoutes } from './lookup.js';
import { metricsRoutes } from './metrics.js';
import type { ServerConfig } from './schema.js';
import { relatedRoutes } from './related.js';
import { objectRoutes } from './objects.js';
import { OPENAPI_PATH, openApiCollector } from './openapi.js';
import { VERSION } from '../paths.js';
import { CursorSealer } from '../search/cursor.js';
import type { CorrelationIndex } from '../correlate/index.js';
import { resolverFromIndex, resolverFromRemote, sightingsRoutes } from './sightings.js';
import type { Scoring } from '../score/model.js';
import type { PublishFilter } from '../filter/policy.js';
import { detectObservable } from '../core/observable.js';
import { DEFAULT_POLICY, type AccessPolicy } from '../access/policy.js';
import type { EdlLists } from '../edl/index.js';
import type { EdlMetrics } from '../telemetry/edl-metrics.js';
import { edlRoutes } from './edl.js';
import { attachLeanPath, EdlLeanPath, edlServerFactory } from './edl-lean.js';
import { taxiiRoutes, type TaxiiServerOptions } from './taxii/index.js';
import { adminRoutes } from './admin.js';
import { reconcileRoutes } from './admin-reconcile.js';
import type { AdminControl } from './admin-types.js';
import { ingestRoutes } from './ingest.js';
import { consoleRoutes } from './console/index.js';
import { consoleSchema } from './schema.js';
import { defaultOf } from '../core/schema.js';
import { deliveriesFor, deliveriesRoutes } from './deliveries.js';

export { hashApiKey, serverSchema, type ServerConfig } from './schema.js';
export { Authenticator, type Principal } from './auth.js';
export { isLoopbackHost, serverIssues } from './exposure.js';
export { taxiiSchema, taxiiIssues, type TaxiiConfig, type TaxiiServerOptions } from './taxii/index.js';

export interface BuildServerOptions {
  config: ServerConfig;
  /** The in-memory lookup index (empty and unused when `remote` answers lookups). */
  index: LookupIndex;
  /** The OpenSearch store's remote lookups (src/lookup/remote): when given, they answer lookups and sightings. */
  remote?: RemoteLookup;
  store: Store;
  metrics: Metrics;
  logger: Logger;
  isReady: () => boolean;
  /** Whether lookups may be answered (default: isReady); false → 503 with Retry-After. */
  isServing?: () => boolean;
  now?: () => number;
  /** Serves /api/v1/objects/:id/related when given. */
  correlator?: CorrelationIndex;
  /** Serves POST /api/v1/sightings when given (the store's scoring model). */
  scoring?: Scoring;
  /** The access policy every answer is computed under (default: DEFAULT_POLICY). */
  access?: AccessPolicy;
  /** The publish filter in use (warninglists, publish allowlist): lookups flag the values it lists. */
  publishFilter?: () => PublishFilter | undefined;
  /** Seals search paging cursors (default: one keyed by `server.cursor_secret`, else random per process). */
  cursors?: CursorSealer;
  /** Serves GET /edl/{list}/{kind} when given (src/edl); `lean: false` leaves every request to fastify (tests compare both paths). */
  edl?: { lists: EdlLists; basicAuth: boolean; metrics?: EdlMetrics; lean?: boolean };
  /** Serves the TAXII 2.1 server under /taxii2/ when given and enabled (docs/taxii.md). */
  taxii?: TaxiiServerOptions;
  /** Serves the admin API (`admin` scope) and `POST /api/v1/ingest` (`ingest` scope) when given. */
  admin?: AdminControl;
  /** The configured sinks' ids, for the delivery ledger (`GET /api/v1/deliveries`); default none. */
  sinks?: () => readonly string[];
}

const CHARSET_RE = /;\s*charset\s*=\s*"?([^";\s]*)/i;
const UTF8_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii']);

/** Node checks header and request deadlines on a timer; at most this long past a deadline. */
export function deadlineCheckIntervalMs(headersTimeoutMs: number): number {
  return Math.max(100, Math.min(1000, Math.floor(headersTimeoutMs / 10)));
}

/** The HTTP surface: lookup API, health, metrics. The caller listens (and closes). */
export function buildServer(o: BuildServerOptions): FastifyInstance {
  const c = o.config;
  const now = o.now ?? Date.now;
  const headersTimeoutMs = c.headers_timeout_secs * 1000;
  const requestTimeoutMs = c.request_timeout_secs * 1000;
  let lean: EdlLeanPath | undefined;
  const app = fastify({
    // plain GETs of firewall lists are answered before fastify (src/server/edl-lean.ts, ADR 0015)
    ...(o.edl && o.edl.lean !== false ? { serverFactory: edlServerFactory(() => lean) } : {}),
    loggerInstance: o.logger,
    logController: new LogController({ disableRequestLogging: true }),
    // the per-request child logger (with its reqId binding) is only built when something logs
    childLoggerFactory: lazyChildLogger as never,
    bodyLimit: c.body_limit_bytes,
    requestTimeout: requestTimeoutMs,
    connectionTimeout: requestTimeoutMs,
    keepAliveTimeout: c.keep_alive_timeout_secs * 1000,
    http: {
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      maxHeaderSize: c.max_header_bytes,
      // Node enforces headersTimeout/requestTimeout only when this timer fires (default every
      // 30 s, so a 10 s header deadline held slow clients for 10-40 s): check often enough that
      // the configured deadline holds within a tenth of itself, at most a second late
      connectionsCheckingInterval: deadlineCheckIntervalMs(headersTimeoutMs),
    },
    routerOptions: { maxParamLength: 256 },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // X-Forwarded-* only from the configured proxies: a client cannot spoof its address past the per-address limits
    trustProxy: c.trusted_proxies.length > 0 ? [...c.trusted_proxies] : false,
    return503OnClosing: true,
    clientErrorHandler,
    frameworkErrors,
    // unexpected properties are a clear 400, never silently stripped
    ajv: { customOptions: { removeAdditional: false } },
  }) as unknown as FastifyInstance;
  app.server.headersTimeout = headersTimeoutMs;
  app.server.maxConnections = c.max_connections;

  // JSON only: a text/plain body carrying JSON is a 415, not parsed some other way
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('principal', null);
  registerErrorHandling(app, (code) => o.metrics.apiRefused.inc({ code: errorLabel(code) }));
  const limiter = new RateLimiter(c.rate_limit, keyRates(c), now);
  // before routing hooks and authentication: over-long targets, then the caller's address bucket
  app.addHook('onRequest', (req, _reply, done) => {
    if ((req.raw.url ?? '').length > c.max_url_bytes)
      return done(
        new ApiError(414, 'STIXGATE_ERR_API_URI_TOO_LONG', `the request target exceeds ${c.max_url_bytes} bytes`),
      );
    const wait = limiter.takeAddress(clientBucketOf(req.ip));
    if (wait > 0) return done(rateLimited(wait, 'this address'));
    done();
  });
  // JSON bodies are read as UTF-8: a body declared in another charset is refused, not misread
  app.addHook('preParsing', (req, _reply, payload, done) => {
    const charset = CHARSET_RE.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    if (charset !== undefined && !UTF8_CHARSETS.has(charset))
      return done(new ApiError(415, 'STIXGATE_ERR_API_UNSUPPORTED_MEDIA_TYPE', 'unsupported charset; send UTF-8 JSON'));
    done(null, payload);
  });
  // audit trail: one line per authenticated call, with the key id (never the key) and
  // the route pattern (never the raw URL, which carries looked-up values). Callback style: it runs on every request.
  app.addHook('onResponse', (req, reply, done) => {
    if (req.principal?.keyId) {
      req.log.info(
        {
          key_id: req.principal.keyId,
          method: req.method,
          route: req.routeOptions.url,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
        },
        'api call',
      );
    }
    done();
  });
  const describeApi = openApiCollector(app, {
    title: 'stixgate',
    version: VERSION,
    description: 'Threat-intelligence integration gateway (docs/api.md, docs/access.md)',
  });
  const finishRoutes = methodNotAllowed(app);

  const auth = new Authenticator(c.api_keys, c.anonymous_lookup, limiter, now);
  const correlator = o.correlator;
  const publishFilter = o.publishFilter;
  lookupRoutes(app, {
    index: o.index,
    remote: o.remote,
    metrics: o.metrics,
    auth,
    maxBatchSize: c.max_batch_size,
    now,
    isServing: o.isServing ?? o.isReady,
    flags:
      publishFilter &&
      ((r) => {
        const f = publishFilter();
        if (!f?.active) return undefined;
        const d = detectObservable(r.value);
        return d.ok
          ? f.hits(d.observable).map((h) => ({
              list: h.list,
              type: h.type,
              entry: h.entry,
              source: h.source,
              ...(h.private_suffix ? { private_suffix: h.private_suffix } : {}),
            }))
          : undefined;
      }),
    related: correlator?.relatedSummary && ((id, maxTlp) => correlator.relatedSummary?.(id, maxTlp) ?? {}),
    relatedAsync: correlator && !correlator.relatedSummary ? (id, maxTlp) => correlator.summary(id, maxTlp) : undefined,
    inactive: (value, maxTlp) => inactiveMatches(o.store, o.access ?? DEFAULT_POLICY, value, maxTlp, now()),
    deliveries: async (value, maxTlp) =>
      (await deliveriesFor({ store: o.store, auth, access: o.access, sinks: o.sinks ?? (() => []) }, value, maxTlp))
        .deliveries,
  });
  if (o.correlator) relatedRoutes(app, { correlator: o.correlator, store: o.store, auth, now, access: o.access });
  const cursors = o.cursors ?? new CursorSealer(c.cursor_secret);
  deliveriesRoutes(app, { store: o.store, auth, access: o.access, sinks: o.sinks ?? (() => []) });
  objectRoutes(app, { store: o.store, auth, access: o.access, cursors });
  if (o.scoring)
    sightingsRoutes(app, {
      store: o.store,
      auth,
      scoring: o.scoring,
      resolve: o.remote ? resolverFromRemote(o.remote, now) : resolverFromIndex(o.index, now),
      now,
      access: o.access,
      isServing: o.isServing ?? o.isReady,
    });
  if (o.edl) {
    edlRoutes(app, { ...o.edl, auth });
    if (o.edl.lean !== false)
      lean = attachLeanPath(
        app,
        new EdlLeanPath({
          ...o.edl,
          auth,
          limiter,
          maxUrlBytes: c.max_url_bytes,
          trustProxy: c.trusted_proxies.length > 0,
          logger: o.logger,
        }),
      );
    app.addHook('preClose', (done) => {
      if (lean) lean.closing = true;
      done();
    });
  }
  healthRoutes(app, { store: o.store, isReady: o.isReady });
  let apiDocument: Record<string, unknown> | undefined;
  app.get(
    OPENAPI_PATH,
    { schema: { summary: 'this OpenAPI 3.1 description' } },
    async () => (apiDocument ??= describeApi()),
  );
  metricsRoutes(app, {
    metrics: o.metrics,
    index: o.remote ?? o.index,
    store: o.store,
    auth,
    requireAuth: !c.metrics_public,
    now,
  });
  if (o.taxii?.config.enabled) {
    const release = taxiiRoutes(app, {
      ...o.taxii,
      store: o.store,
      auth,
      metrics: o.metrics,
      logger: o.logger,
      now,
      bodyLimit: c.body_limit_bytes,
      access: o.access,
    });
    app.addHook('onClose', (_app, done) => {
      release();
      done();
    });
  }
  if (o.admin) adminRoutes(app, { control: o.admin, store: o.store, auth });
  if (o.admin) reconcileRoutes(app, { control: o.admin, auth });
  finishRoutes();
  if (o.admin) ingestRoutes(app, { control: o.admin, auth, bodyLimit: c.ingest_body_limit_bytes });
  const consoleConfig = c.console ?? defaultOf(consoleSchema);
  if (consoleConfig.enabled)
    consoleRoutes(app, {
      config: consoleConfig,
      auth,
      store: o.store,
      metrics: o.metrics,
      access: o.access,
      cursors,
      admin: o.admin,
      correlator,
      now,
      sinks: o.sinks ?? (() => []),
    });
  return app;
}

/** Each key's own token bucket, where it sets one. */
function keyRates(c: ServerConfig): Map<string, BucketRate> {
  const m = new Map<string, BucketRate>();
  for (const [id, k] of Object.entries(c.api_keys)) if (k.rate_limit) m.set(id, k.rate_limit);
  return m;
}
