import type { AccessPolicy } from './access/policy.js';
import { Correlator, CorrelationMetrics, type CorrelationConfig } from './correlate/index.js';
import type { Store } from './store/contract.js';
import type { Logger } from './telemetry/logger.js';
import type { Metrics } from './telemetry/metrics.js';

/** The running correlation index and its statistics timer. */
export interface Correlation {
  correlator: Correlator;
  close(): Promise<void>;
}

/**
 * Opens the correlation index when `correlation.enabled`. A first build of a large store takes
 * minutes: it runs in the background, never blocking readiness; while a source run ingests
 * (`busy`), timed catch-ups apply one slice per tick (the run's end triggers a full one).
 */
export function startCorrelation(o: {
  config: CorrelationConfig;
  dataDir: string;
  store: Store;
  metrics: Metrics;
  logger: Logger;
  access: AccessPolicy;
  busy: () => boolean;
}): Correlation | undefined {
  const cc = o.config;
  if (!cc.enabled) return undefined;
  const correlator = new Correlator({
    dataDir: o.dataDir,
    maxFanout: cc.max_fanout_per_value,
    metrics: new CorrelationMetrics(o.metrics.registry),
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
