import type { Store } from '../contract.js';
import { OpenSearchStore, type OpenSearchStoreOptions } from './store.js';

export { OpenSearchStore, type OpenSearchStoreOptions } from './store.js';
export { opensearchStoreSchema, type OpenSearchStoreConfig } from './schema.js';

/** Creates and opens the OpenSearch store (templates and indices made or upgraded). */
export async function openOpenSearchStore(opts: OpenSearchStoreOptions): Promise<Store & OpenSearchStore> {
  const store = new OpenSearchStore(opts);
  await store.open();
  return store;
}
