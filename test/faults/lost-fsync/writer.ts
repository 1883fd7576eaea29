/**
 * Child process of lost-fsync.test.ts: ingests batches of 50 indicators into an embedded store,
 * each batch committed with its cursor, and prints "acked <n>" once the store returned.
 */
import { openEmbeddedStore } from '../../../src/store/embedded/index.js';
import { indicatorFromObservable } from '../../../src/core/indicator.js';
import { detectObservable } from '../../../src/core/observable.js';
import { must } from '../../helpers/must.js';

const [dataDir, sync] = process.argv.slice(2);
const store = await openEmbeddedStore({ dataDir: must(dataDir, 'dataDir'), sync: sync === 'full' ? 'full' : 'normal' });
const now = Date.parse('2026-03-01T12:00:00Z');
for (let batch = 0; ; batch++) {
  const items = Array.from({ length: 50 }, (_, i) => {
    const n = batch * 50 + i;
    const r = detectObservable(`45.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`);
    if (!r.ok) throw new Error('bad value');
    return { object: indicatorFromObservable(r.observable, { now: new Date(now).toISOString() }), source: 'feed' };
  });
  await store.upsert(items, { now, cursors: { 'source:feed': String(batch) } });
  process.stdout.write(`acked ${batch}\n`);
}
