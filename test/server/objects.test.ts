import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { searchSuite } from './search-suite.js';

searchSuite('embedded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-objects-'));
  const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
