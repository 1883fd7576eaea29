import type { FastifyInstance } from 'fastify';
import { publishIndexMetrics, type LookupIndex, type MetricsPublisher } from '../lookup/index.js';
import { errorCode } from '../core/guards.js';
import type { Store } from '../store/contract.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Authenticator } from './auth.js';
import { sinkCursorName } from '../delivery/runner.js';

export const STORE_STATS_INTERVAL_MS = 10_000;

export interface MetricsRouteOptions {
  metrics: Metrics;
  /** The lookup index, or the remote lookups (their sequence; no per-indicator entries). */
  index: Pick<LookupIndex, 'sizes' | 'seq'> & MetricsPublisher;
  store: Store;
  auth: Authenticator;
  requireAuth: boolean;
  now: () => number;
}

/**
 * Every configured sink's lag (change-log head minus its committed cursor), read from the store at
 * scrape time, so it grows while a sink is paused, failing or not yet run, not only while it pushes.
 */
export async function refreshSinkLag(metrics: Metrics, store: Store): Promise<void> {
  if (metrics.sinkIds.length === 0) return;
  const head = await store.head();
  for (const sink of metrics.sinkIds) {
    const cursor = Number((await store.getCursor(sinkCursorName(sink))) ?? 0);
    metrics.sinkLag.set({ sink }, Math.max(0, head - cursor));
  }
}

function storeErrorCode(err: unknown): string {
  const code = errorCode(err);
  return typeof code === 'string' && code.startsWith('STIXGATE_ERR_STORE_')
    ? code.slice('STIXGATE_ERR_'.length).toLowerCase()
    : 'store_unavailable';
}

/** `GET /metrics`: the prom-client registry, with store sizes refreshed at most every 10 s and sink lag at every scrape. */
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
      await refreshSinkLag(o.metrics, o.store);
    } catch (err) {
      // serve the rest of the metrics; store sizes and lag stay at their last value
      o.metrics.storeErrors.inc({ code: storeErrorCode(err) });
      req.log.warn({ err }, 'metrics: store stats unavailable');
    }
    publishIndexMetrics(o.metrics, o.index);
    const text = await o.metrics.registry.metrics();
    return reply.type(o.metrics.registry.contentType).send(text);
  });
}
