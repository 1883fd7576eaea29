import type { Store } from '../store/contract.js';
import type { StixgateConfig } from './config-schema.js';
import { openThreadedStore } from '../store/embedded/index.js';
import { openOpenSearchStore } from '../store/opensearch/index.js';
import { compileScoring } from '../score/model.js';

/**
 * Entries of the embedded store's unchanged-upsert cache in a one-shot command (`stixgate ingest`,
 * `push`, …). The cache lets the next poll of a feed skip unchanged objects; a command's cache
 * ends with its process, so past what one run re-delivers (duplicate rows of one file) it only
 * held memory in proportion to the file: 2M entries, about 460 MB at 4M rows.
 */
export const COMMAND_HOT_CACHE_ENTRIES = 50_000;

/**
 * Opens the configured store backend, for the daemon (the long-lived caches) or for a one-shot
 * command (caches sized to what one run can reuse).
 */
export async function openStore(
  config: StixgateConfig,
  dataDir: string,
  use: 'daemon' | 'command' = 'daemon',
): Promise<Store> {
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
        ...(use === 'command' ? { hotCacheSize: COMMAND_HOT_CACHE_ENTRIES } : {}),
      });
    case 'opensearch': {
      const { type: _type, ...opts } = sc;
      return openOpenSearchStore({ ...opts, scoring });
    }
  }
}
