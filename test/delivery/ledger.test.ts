import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openThreadedStore } from '../../src/store/embedded/index.js';
import { runLedgerCases } from './ledger-cases.js';

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
    const dir = dirs.get(store)!;
    await store.close();
    const again = await openThreadedStore({ dataDir: dir });
    dirs.set(again, dir);
    return again;
  },
  cleanup: async (store) => {
    await store.close();
    rmSync(dirs.get(store)!, { recursive: true, force: true });
  },
});
