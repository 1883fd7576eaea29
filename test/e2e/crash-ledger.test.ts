import { test } from 'node:test';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { TRIALS, crashLedgerTrials, crashValues, storeValues } from './crash-ledger-kit.js';

/**
 * kill -9 during a push on the embedded store (crash-ledger-kit.ts): the ledger rows are written in
 * the transaction that commits the sink's cursor, so the rows marked present are exactly the
 * values the committed cursor covers.
 */
test(`kill -9 during push (${TRIALS} trials): the ledger holds exactly the values the committed cursor covers`, {
  timeout: 600_000,
}, async () => {
  let template: string | undefined;
  await crashLedgerTrials(async (trial, root) => {
    if (template === undefined) {
      template = join(root, 'template');
      mkdirSync(template, { recursive: true });
      const store = await openEmbeddedStore({ dataDir: template });
      await storeValues(store, crashValues());
      await store.close();
    }
    const dataDir = join(root, `t${trial}`);
    cpSync(template, dataDir, { recursive: true });
    return { config: [`data_dir: ${dataDir}`], dataDir, open: () => openEmbeddedStore({ dataDir }) };
  });
});
