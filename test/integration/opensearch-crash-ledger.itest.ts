import { it, test } from 'node:test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { OpenSearchStore } from '../../src/store/opensearch/index.js';
import { ledgerIndexName } from '../../src/store/opensearch/ledger.js';
import { TRIALS, crashLedgerTrials, crashValues, storeValues } from '../e2e/crash-ledger-kit.js';
import { OPENSEARCH_URL, SKIP_REASON, storeOptions } from './opensearch-helpers.js';

/**
 * kill -9 during a push on the OpenSearch store (test/e2e/crash-ledger-kit.ts): the ledger
 * documents are written before the cursor and wait for it, so after the kill the rows a reader
 * sees as present are exactly the values the committed cursor covers, and the push run again
 * records the rest.
 */
if (SKIP_REASON) it('delivery ledger crash: opensearch', { skip: SKIP_REASON }, () => {});
else
  test(`opensearch: kill -9 during push (${TRIALS} trials): present rows are exactly what the committed cursor covers`, {
    timeout: 900_000,
  }, async () => {
    const stores: OpenSearchStore[] = [];
    try {
      await crashLedgerTrials(async (trial, root) => {
        const opts = storeOptions();
        const store = new OpenSearchStore(opts);
        await store.open();
        stores.push(store);
        await storeValues(store, crashValues());
        const dataDir = join(root, `t${trial}`);
        mkdirSync(dataDir, { recursive: true });
        return {
          config: [
            `data_dir: ${dataDir}`,
            'store:',
            '  type: opensearch',
            `  node: ${OPENSEARCH_URL}`,
            `  index_prefix: ${opts.index_prefix}`,
            '  number_of_replicas: 0',
          ],
          dataDir,
          open: async () => {
            const s = new OpenSearchStore(opts);
            await s.open();
            return s;
          },
          // the killed push's last ledger documents may still wait for the index's 1 s refresh
          settle: async () => {
            const r = await fetch(`${OPENSEARCH_URL}/${ledgerIndexName(opts.index_prefix)}/_refresh`, {
              method: 'POST',
            });
            if (!r.ok) throw new Error(`refresh of ${ledgerIndexName(opts.index_prefix)}: ${r.status}`);
          },
        };
      });
    } finally {
      for (const s of stores) {
        await s.destroy();
        await s.close();
      }
    }
  });
