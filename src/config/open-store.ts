import type { Store } from '../store/contract.js';
import type { StixgateConfig } from './config-schema.js';
import { openThreadedStore } from '../store/embedded/index.js';
import { openOpenSearchStore } from '../store/opensearch/index.js';
import { compileScoring } from '../score/model.js';

/** Opens the configured store backend. */
export async function openStore(config: StixgateConfig, dataDir: string): Promise<Store> {
  const sc = config.store;
  const scoring = compileScoring(config.scoring);
  switch (sc.type) {
    case 'embedded':
      // on a writer thread: merging and SQLite never run on the event loop (ADR 0009)
      return openThreadedStore({
        dataDir,
        sync: sc.sync,
        seenGranularityMs: sc.seen_granularity_secs * 1000,
        cacheMb: sc.cache_mb,
        scoring,
      });
    case 'opensearch': {
      const { type: _type, ...opts } = sc;
      return openOpenSearchStore({ ...opts, scoring });
    }
  }
}
