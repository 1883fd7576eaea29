// Re-score job cost (not part of the test suite):
//   node --import tsx test/score/bench-rescore.ts [N]
// Ingests N IPv4 indicators with decay on, then times re-score passes: one where nothing moved
// by the step (the usual hourly pass: read and score only), one where every score moved (the
// first pass after a day: a write per indicator), and one expiring everything.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rescoreStore } from '../../src/store/rescore.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { IngestItem } from '../../src/store/contract.js';
import { indicatorFor } from '../store/fixtures.js';
import { DAY, HOUR, STANDARD, T0 } from './helpers.js';

const N = Number(process.argv[2] ?? 200_000);
const BATCH = 10_000;
const dir = join(tmpdir(), `stixgate-rescore-bench-${process.pid}`);
rmSync(dir, { recursive: true, force: true });
const sc = STANDARD();
const store = await openEmbeddedStore({ dataDir: dir, scoring: sc });

async function time(label: string, fn: () => Promise<unknown>): Promise<void> {
  const t = process.hrtime.bigint();
  const r = await fn();
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(
    `${label.padEnd(30)} ${s.toFixed(2)} s = ${Math.round(N / s)}/s  rss ${Math.round(process.memoryUsage().rss / 1e6)} MB  ${r ? JSON.stringify(r) : ''}`,
  );
}

await time('ingest', async () => {
  for (let i = 0; i < N; i += BATCH) {
    const items: IngestItem[] = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++)
      items.push({ object: indicatorFor(j), source: 'bench', confidence: 60, seenAt: new Date(T0).toISOString() });
    await store.upsert(items, { now: T0 });
  }
});
await time('rescore, nothing moved', () => rescoreStore(store, sc, T0 + HOUR));
await time('rescore, every score moved', () => rescoreStore(store, sc, T0 + 2 * DAY));
await time('rescore, all expire', () => rescoreStore(store, sc, T0 + 30 * DAY));
await store.close();
rmSync(dir, { recursive: true, force: true });
