// Store micro-benchmark (not part of the test suite):
//   node --import tsx test/store/bench-store.ts [N] [hotCacheSize]
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { IngestItem } from '../../src/store/contract.js';
import { DAY, HOUR, T0, indicatorFor } from './fixtures.js';

const N = Number(process.argv[2] ?? 1_000_000);
const hotCacheSize = Number(process.argv[3] ?? 2_000_000);
const BATCH = 10_000;
const dir = join(tmpdir(), `stixgate-bench-${process.pid}`);
rmSync(dir, { recursive: true, force: true });

function time(label: string, n: number, fn: () => Promise<void>): Promise<void> {
  const t = process.hrtime.bigint();
  return fn().then(() => {
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    console.log(
      `${label.padEnd(34)} ${n} in ${s.toFixed(2)} s = ${Math.round(n / s)}/s  rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`,
    );
  });
}

function batch(from: number, to: number, validUntil: (i: number) => number): IngestItem[] {
  const items: IngestItem[] = [];
  for (let i = from; i < to; i++)
    items.push({ object: indicatorFor(i, { validUntil: validUntil(i) }), source: 'bench', confidence: 60 });
  return items;
}

const vu = (i: number) => T0 + (i % 10 === 0 ? DAY : 30 * DAY); // 10% expire after a day
const store = await openEmbeddedStore({ dataDir: dir, hotCacheSize });
let t = 0;
await time('fresh inserts', N, async () => {
  for (let i = 0; i < N; i += BATCH) {
    const b = batch(i, Math.min(N, i + BATCH), vu);
    const t0 = process.hrtime.bigint();
    const r = await store.upsert(b, { now: T0, cursors: { bench: String(i) } });
    t += Number(process.hrtime.bigint() - t0);
    if (r.created !== b.length) throw new Error('expected all created');
  }
});
console.log(`  (store.upsert share: ${(t / 1e9).toFixed(2)} s; the rest is building fixtures)`);
t = 0;
await time('unchanged re-upserts (same run)', N, async () => {
  for (let i = 0; i < N; i += BATCH) {
    const b = batch(i, Math.min(N, i + BATCH), vu);
    const t0 = process.hrtime.bigint();
    const r = await store.upsert(b, { now: T0 + 10 * 60_000 });
    t += Number(process.hrtime.bigint() - t0);
    if (r.unchanged !== b.length) throw new Error(`expected all unchanged ${JSON.stringify(r)}`);
  }
});
console.log(`  (store.upsert share: ${(t / 1e9).toFixed(2)} s)`);
const head = await store.head();
await store.close();
const store2 = await openEmbeddedStore({ dataDir: dir, hotCacheSize });
t = 0;
await time('unchanged re-upserts (cold cache)', N, async () => {
  for (let i = 0; i < N; i += BATCH) {
    const b = batch(i, Math.min(N, i + BATCH), vu);
    const t0 = process.hrtime.bigint();
    const r = await store2.upsert(b, { now: T0 + 20 * 60_000 });
    t += Number(process.hrtime.bigint() - t0);
    if (r.unchanged !== b.length) throw new Error('expected all unchanged');
  }
});
console.log(`  (store.upsert share: ${(t / 1e9).toFixed(2)} s; head ${head} -> ${await store2.head()})`);
await time('point gets', N, async () => {
  for (let i = 0; i < N; i++) {
    const id = indicatorFor((i * 7919) % N).id;
    if (!(await store2.get(id))) throw new Error('missing');
  }
});
await time('index scan (indexEntries, 50k pages)', N, async () => {
  let after = 0;
  let n = 0;
  for (;;) {
    const p = await store2.indexEntries(after, 50_000);
    if (p.next === after) break;
    n += p.entries.length;
    after = p.next;
  }
  if (n !== N) throw new Error(`index scan saw ${n}`);
});
await time('changes scan (changes, 10k pages)', N, async () => {
  let after = 0;
  for (;;) {
    const p = await store2.changes(after, 10_000);
    if (p.next === after) break;
    after = p.next;
  }
});
let expired = 0;
await time('expire 10%', N / 10, async () => {
  expired = await store2.expire(T0 + 2 * DAY);
});
if (expired !== N / 10) throw new Error(`expired ${expired}`);
await time('stats', 1, async () => {
  await store2.stats();
});
const st = await store2.stats();
console.log(`disk ${Math.round((st.bytesOnDisk ?? 0) / 1e6)} MB for ${st.objects} objects`);
await store2.close();
const t1 = process.hrtime.bigint();
const store3 = await openEmbeddedStore({ dataDir: dir, integrityCheck: 'always' });
console.log(`open with quick_check: ${(Number(process.hrtime.bigint() - t1) / 1e9).toFixed(2)} s`);
await store3.close();
void HOUR;
rmSync(dir, { recursive: true, force: true });
