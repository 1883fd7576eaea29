import { EdlLists, type EdlConfig, type EdlListsOptions } from './edl/index.js';
import type { Store } from './store/contract.js';
import { EdlMetrics } from './telemetry/edl-metrics.js';
import type { Logger } from './telemetry/logger.js';
import type { Metrics } from './telemetry/metrics.js';

/** The firewall lists as the server serves them. */
export interface DaemonEdl {
  lists: EdlLists;
  basicAuth: boolean;
  metrics: EdlMetrics;
}

/** The configured firewall lists, empty until `openEdl` has built them (none configured: undefined). */
export function createEdl(
  config: EdlConfig,
  store: Store,
  metrics: Metrics,
  o: Omit<EdlListsOptions, 'metrics'> & { logger: Logger },
): DaemonEdl | undefined {
  if (Object.keys(config.lists).length === 0) return undefined;
  const edlMetrics = new EdlMetrics(metrics.registry);
  const lists = new EdlLists(store, config, { ...o, metrics: edlMetrics });
  return { lists, basicAuth: config.basic_auth, metrics: edlMetrics };
}

/** Builds the firewall lists in the background once the server listens (503 until then, docs/edl.md), then follows the change log. */
export function openEdl(lists: EdlLists | undefined, logger: Logger): void {
  if (!lists) return;
  void lists.open().then(() => {
    if (lists.ready) logger.info({ lists: lists.names, seq: lists.seq }, 'firewall lists built');
  });
}
