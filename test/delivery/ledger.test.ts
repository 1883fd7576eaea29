import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openThreadedStore } from '../../src/store/embedded/index.js';
import { runLedgerCases } from './ledger-cases.js';
import { must } from '../helpers/must.js';

/** The delivery ledger's cases (ledger-cases.ts) on the embedded store on its writer thread. */
const dirs = new WeakMap<object, string>();
runLedgerCases('embedded', {
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stixgate-ledger-store-'));
    const store = await openThreadedStore({ dataDir: dir });
    dirs.set(store, dir);
    return store;
  },
  reopen: async (store) => {
    const dir = must(dirs.get(store), 'the data directory of the store');
    await store.close();
    const again = await openThreadedStore({ dataDir: dir });
    dirs.set(again, dir);
    return again;
  },
  cleanup: async (store) => {
    await store.close();
    rmSync(must(dirs.get(store), 'the data directory of the store'), { recursive: true, force: true });
  },
});
