import type { Store } from '../contract.js';
import { EmbeddedStore, type EmbeddedStoreOptions } from './store.js';
import { ThreadedStore } from './threaded-store.js';

export { EmbeddedStore, type EmbeddedStoreOptions } from './store.js';
export { ThreadedStore } from './threaded-store.js';
export { DB_FILE } from './open.js';
export { LOCK_FILE } from './lock.js';
export { SCHEMA_VERSION } from './schema.js';

/** Opens (creating when absent) the embedded store in `opts.dataDir`. */
export async function openEmbeddedStore(opts: EmbeddedStoreOptions): Promise<EmbeddedStore & Store> {
  const store = new EmbeddedStore(opts);
  await store.open();
  return store;
}

/** Opens the embedded store on a writer thread (the daemon's and the CLI's store, ADR 0009). */
export async function openThreadedStore(opts: EmbeddedStoreOptions): Promise<ThreadedStore> {
  const store = new ThreadedStore(opts);
  await store.open();
  return store;
}
