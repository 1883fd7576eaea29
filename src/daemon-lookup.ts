import type { AccessPolicy } from './access/policy.js';
import type { StixgateConfig } from './config/config-schema.js';
import { FilterKeeper, RemoteLookup } from './lookup/index.js';
import { isCandidateSource } from './lookup/remote/source.js';
import type { Store } from './store/contract.js';
import type { Logger } from './telemetry/logger.js';
import type { Metrics } from './telemetry/metrics.js';

/** The remote lookups and the keeper of their filter. */
export interface RemoteLookups {
  remote: RemoteLookup;
  keeper: FilterKeeper;
}

/**
 * The OpenSearch store's remote lookups (`lookup.remote.enabled`, docs/adr/0024-remote-lookups.md):
 * the negative filter restored from its snapshot and caught up, or built in the background.
 * Undefined on the embedded store or when disabled (the in-memory index answers).
 */
export async function openRemoteLookups(o: {
  config: StixgateConfig;
  store: Store;
  dataDir: string;
  indexOptions: { matchParentDomains: boolean; now: () => number; access: AccessPolicy };
  logger: Logger;
  metrics?: Metrics;
}): Promise<RemoteLookups | undefined> {
  const { config, store } = o;
  const rc = config.lookup.remote;
  if (!rc.enabled || !isCandidateSource(store)) return undefined;
  const remote = new RemoteLookup(store, {
    ...o.indexOptions,
    cacheBytes: rc.cache_mb * 1048576,
    fetchLimit: rc.fetch_limit,
    metrics: o.metrics,
  });
  const keeper = new FilterKeeper({
    dataDir: o.dataDir,
    store,
    shape: { capacity: rc.filter_capacity, fpRate: rc.filter_fp_rate },
    logger: o.logger,
    metrics: o.metrics,
    rebuildStaleShare: rc.filter_rebuild_stale_share,
    intervalMs: config.lookup.snapshot ? config.lookup.snapshot_interval_mins * 60_000 : 0,
  });
  await keeper.open(remote);
  return { remote, keeper };
}
