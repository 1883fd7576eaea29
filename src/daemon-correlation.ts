import { join } from 'node:path';
import type { AccessPolicy } from './access/policy.js';
import {
  Correlator,
  CorrelationMetrics,
  SharedCorrelation,
  type CorrelationConfig,
  type CorrelationIndex,
} from './correlate/index.js';
import type { Store } from './store/contract.js';
import { OpenSearchStore } from './store/opensearch/index.js';
import type { Logger } from './telemetry/logger.js';
import type { Metrics } from './telemetry/metrics.js';

/** The running correlation index and its statistics timer. */
export interface Correlation {
  correlator: CorrelationIndex;
  close(): Promise<void>;
}

/** The lease holder's working copy of the shared index, under the data directory. */
export const SHARED_CORRELATION_DIR = 'correlation-links';

/**
 * Opens the correlation index when `correlation.enabled`. A first build of a large store takes
 * minutes: it runs in the background, never blocking readiness; while a source run ingests
 * (`busy`), timed catch-ups apply one slice per tick (the run's end triggers a full one).
 *
 * On an OpenSearch store the index is shared (docs/adr/0027-correlation-in-opensearch.md): the
 * instance holding its lease computes it into `<prefix>-links`, every instance reads it there.
 */
export function startCorrelation(o: {
  config: CorrelationConfig;
  dataDir: string;
  store: Store;
  metrics: Metrics;
  logger: Logger;
  access: AccessPolicy;
  busy: () => boolean;
  /** This instance's name in leases, and the lease TTL. */
  holder: string;
  leaseTtlMs: number;
  now: () => number;
}): Correlation | undefined {
  const cc = o.config;
  if (!cc.enabled) return undefined;
  const metrics = new CorrelationMetrics(o.metrics.registry);
  if (o.store instanceof OpenSearchStore) {
    const shared = new SharedCorrelation({
      store: o.store,
      links: o.store.links(),
      dir: join(o.dataDir, SHARED_CORRELATION_DIR),
      holder: o.holder,
      leaseTtlMs: o.leaseTtlMs,
      maxFanout: cc.max_fanout_per_value,
      pageSize: cc.page_size,
      now: o.now,
      logger: o.logger,
      metrics,
      access: o.access,
      busy: o.busy,
    });
    shared.start(cc.follow_interval_ms);
    return { correlator: shared, close: () => shared.close() };
  }
  const correlator = new Correlator({
    dataDir: o.dataDir,
    maxFanout: cc.max_fanout_per_value,
    metrics,
    logger: o.logger,
    access: o.access,
  });
  correlator.start(o.store, cc.follow_interval_ms, cc.page_size, o.busy);
  const statsTimer = setInterval(() => {
    try {
      correlator.stats();
    } catch {
      /* reported by the correlator */
    }
  }, 60_000);
  statsTimer.unref();
  return {
    correlator,
    close: async () => {
      clearInterval(statsTimer);
      await correlator.close();
    },
  };
}
