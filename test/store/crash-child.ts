// Child process of crash.test.ts: ingests the deterministic crash workload from the committed
// cursor onwards, printing "batch N" after each commit, until killed or done.
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { crashBatch, CRASH_BATCHES } from './crash-workload.js';
import { T0 } from './fixtures.js';
import { must } from '../helpers/must.js';

const dataDir = process.argv[2];
const store = await openEmbeddedStore({ dataDir: must(dataDir, 'dataDir') });
const cursor = await store.getCursor('batch');
process.stdout.write('open\n');
for (let k = cursor === undefined ? 0 : Number(cursor) + 1; k < CRASH_BATCHES; k++) {
  await store.upsert(crashBatch(k), { now: T0, cursors: { batch: String(k) } });
  process.stdout.write(`batch ${k}\n`);
}
await store.close();
process.stdout.write('done\n');
