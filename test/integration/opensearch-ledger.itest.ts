import { it } from 'node:test';
import { OpenSearchStore } from '../../src/store/opensearch/index.js';
import type { Store } from '../../src/store/contract.js';
import { runLedgerCases } from '../delivery/ledger-cases.js';
import { SKIP_REASON, storeOptions } from './opensearch-helpers.js';

/** The delivery ledger's cases (test/delivery/ledger-cases.ts) on the OpenSearch store, reopened on the same indices. */
const prefixes = new WeakMap<object, string>();

async function openOn(prefix: string): Promise<Store> {
  const store = new OpenSearchStore(storeOptions({ index_prefix: prefix }));
  await store.open();
  prefixes.set(store, prefix);
  return store;
}

if (SKIP_REASON) it('delivery ledger: opensearch', { skip: SKIP_REASON }, () => {});
else
  runLedgerCases('opensearch', {
    open: () => openOn(storeOptions().index_prefix),
    reopen: async (store) => {
      await store.close();
      return openOn(prefixes.get(store)!);
    },
    cleanup: async (store) => {
      await (store as OpenSearchStore).destroy();
      await store.close();
    },
  });
