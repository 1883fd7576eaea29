import type { Store } from './contract.js';
import type { StixgateConfig } from '../config/config-schema.js';
import { openEmbeddedStore } from './embedded/index.js';

/** Opens the configured store backend. */
export async function openStore(config: StixgateConfig, dataDir: string): Promise<Store> {
  switch (config.store.type) {
    case 'embedded':
      return openEmbeddedStore({ dataDir, sync: config.store.sync, seenGranularityMs: config.store.seen_granularity_secs * 1000 });
  }
}
