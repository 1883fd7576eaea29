import { randomBytes } from 'node:crypto';
import { OpenSearchStore, type OpenSearchStoreOptions } from '../../src/store/opensearch/index.js';

/** The node started by scripts/opensearch.sh (scripts/integration.sh exports it). */
export const OPENSEARCH_URL = process.env.STIXGATE_OPENSEARCH_URL;
export const SKIP_REASON = OPENSEARCH_URL
  ? false
  : 'STIXGATE_OPENSEARCH_URL is not set: run `eval "$(bash scripts/opensearch.sh start)"` or scripts/integration.sh';

const RUN = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
let counter = 0;

/** A unique index prefix per store in this run. */
export function uniquePrefix(tag = 'it'): string {
  return `stixgate-${tag}-${RUN}-${++counter}`;
}

export function storeOptions(overrides: Partial<OpenSearchStoreOptions> = {}): OpenSearchStoreOptions {
  return {
    node: OPENSEARCH_URL ?? 'http://127.0.0.1:1',
    auth: undefined as never,
    index_prefix: uniquePrefix(),
    tls: { verify: true } as OpenSearchStoreOptions['tls'],
    seen_granularity_secs: 3600,
    max_batch_docs: 1000,
    max_batch_bytes: 5 * 1024 * 1024,
    request_timeout_secs: 30,
    sequence_ttl_secs: 120,
    refresh_interval: '1s',
    number_of_shards: 1,
    number_of_replicas: 0,
    retry: { max_attempts: 3, base_delay_ms: 50, max_delay_ms: 500 },
    ...overrides,
  };
}

/** Opens a store on fresh indices; cleanup deletes them. */
export async function freshStore(overrides: Partial<OpenSearchStoreOptions> = {}): Promise<{ store: OpenSearchStore; cleanup: () => Promise<void> }> {
  const store = new OpenSearchStore(storeOptions(overrides));
  await store.open();
  return {
    store,
    cleanup: async () => {
      await store.destroy();
      await store.close();
    },
  };
}
