import type { FastifyInstance } from 'fastify';
import type { LookupIndex } from '../lookup/index.js';
import type { Store } from '../store/contract.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Authenticator } from './auth.js';

export const STORE_STATS_INTERVAL_MS = 10_000;

export interface MetricsRouteOptions {
  metrics: Metrics;
  index: LookupIndex;
  store: Store;
  auth: Authenticator;
  requireAuth: boolean;
  now: () => number;
}

/** `GET /metrics`: the prom-client registry, with store sizes refreshed at most every 10 s. */
export function metricsRoutes(app: FastifyInstance, o: MetricsRouteOptions): void {
  let statsAt = Number.NEGATIVE_INFINITY;
  const refreshStore = async (): Promise<void> => {
    const now = o.now();
    if (now - statsAt < STORE_STATS_INTERVAL_MS) return;
    statsAt = now;
    const stats = await o.store.stats();
    o.metrics.storeObjects.reset();
    for (const [type, n] of Object.entries(stats.byType)) o.metrics.storeObjects.set({ type }, n);
    o.metrics.storeChangeHead.set(stats.changeLogHead);
  };
  app.get('/metrics', { onRequest: o.requireAuth ? o.auth.require('metrics') : undefined }, async (req, reply) => {
    try {
      await refreshStore();
    } catch (err) {
      // serve the rest of the metrics; store sizes stay at their last value
      req.log.warn({ err }, 'metrics: store stats unavailable');
    }
    for (const [kind, n] of Object.entries(o.index.sizes())) o.metrics.indexEntries.set({ kind }, n);
    o.metrics.indexSeq.set(o.index.seq);
    const text = await o.metrics.registry.metrics();
    return reply.type(o.metrics.registry.contentType).send(text);
  });
}
