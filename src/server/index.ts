import { fastify, LogController, type FastifyInstance } from 'fastify';
import type { LookupIndex } from '../lookup/index.js';
import type { Store } from '../store/contract.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { Authenticator } from './auth.js';
import { registerErrorHandling } from './errors.js';
import { healthRoutes } from './health.js';
import { lazyChildLogger } from './lazy-logger.js';
import { lookupRoutes } from './lookup.js';
import { metricsRoutes } from './metrics.js';
import type { ServerConfig } from './schema.js';
import { relatedRoutes } from './related.js';
import type { Correlator } from '../correlate/index.js';
import { resolverFromIndex, sightingsRoutes } from './sightings.js';
import type { Scoring } from '../score/model.js';
import type { PublishFilter } from '../filter/policy.js';
import { detectObservable } from '../core/observable.js';

export { hashApiKey, serverSchema, type ServerConfig } from './schema.js';
export { Authenticator, type Principal } from './auth.js';

export interface BuildServerOptions {
  config: ServerConfig;
  index: LookupIndex;
  store: Store;
  metrics: Metrics;
  logger: Logger;
  isReady: () => boolean;
  /** Whether lookups may be answered (default: isReady); false → 503 with Retry-After. */
  isServing?: () => boolean;
  now?: () => number;
  /** Serves /api/v1/objects/:id/related when given. */
  correlator?: Correlator;
  /** Serves POST /api/v1/sightings when given (the store's scoring model). */
  scoring?: Scoring;
  /** The publish filter in use (warninglists, publish allowlist): lookups flag the values it lists. */
  publishFilter?: () => PublishFilter | undefined;
}

/** The HTTP surface: lookup API, health, metrics. The caller listens (and closes). */
export function buildServer(o: BuildServerOptions): FastifyInstance {
  const c = o.config;
  const now = o.now ?? Date.now;
  const app = fastify({
    loggerInstance: o.logger,
    logController: new LogController({ disableRequestLogging: true }),
    // the per-request child logger (with its reqId binding) is only built when something logs
    childLoggerFactory: lazyChildLogger as never,
    bodyLimit: c.body_limit_bytes,
    requestTimeout: c.request_timeout_secs * 1000,
    connectionTimeout: c.request_timeout_secs * 1000,
    keepAliveTimeout: c.keep_alive_timeout_secs * 1000,
    routerOptions: { maxParamLength: 256 },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    trustProxy: c.trust_proxy,
    return503OnClosing: true,
    // unexpected properties are a clear 400, never silently stripped (FAULTS A6)
    ajv: { customOptions: { removeAdditional: false } },
  }) as unknown as FastifyInstance;
  // Node requires headersTimeout <= requestTimeout
  app.server.headersTimeout = Math.min(c.headers_timeout_secs, c.request_timeout_secs) * 1000;

  // JSON only: a text/plain body carrying JSON is a 415, not parsed some other way (FAULTS A7)
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('principal', null);
  registerErrorHandling(app);
  // audit trail: one line per authenticated call, with the key id (never the key) and the route
  // pattern (never the raw URL, which carries looked-up values). Callback style: it runs on every request.
  app.addHook('onResponse', (req, reply, done) => {
    if (req.principal?.keyId) {
      req.log.info({ key_id: req.principal.keyId, method: req.method, route: req.routeOptions.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'api call');
    }
    done();
  });

  const auth = new Authenticator(c.api_keys, c.anonymous_lookup);
  const correlator = o.correlator;
  const publishFilter = o.publishFilter;
  lookupRoutes(app, {
    index: o.index, metrics: o.metrics, auth, maxBatchSize: c.max_batch_size, now, isServing: o.isServing ?? o.isReady,
    flags: publishFilter && ((r) => {
      const f = publishFilter();
      if (!f || !f.active) return undefined;
      const d = detectObservable(r.value);
      return d.ok ? f.hits(d.observable).map((h) => ({ list: h.list, type: h.type, entry: h.entry, source: h.source })) : undefined;
    }),
    related: correlator && ((id, maxTlp) => correlator.relatedSummary(id, maxTlp) as unknown as Record<string, string[]>),
  });
  if (o.correlator) relatedRoutes(app, { correlator: o.correlator, store: o.store, auth, now });
  if (o.scoring) sightingsRoutes(app, { store: o.store, auth, scoring: o.scoring, resolve: resolverFromIndex(o.index, now), now, isServing: o.isServing ?? o.isReady });
  healthRoutes(app, { store: o.store, isReady: o.isReady });
  metricsRoutes(app, { metrics: o.metrics, index: o.index, store: o.store, auth, requireAuth: c.metrics_require_auth, now });
  return app;
}
