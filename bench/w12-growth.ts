/**
 * W12 growth: the W1 CSV ingest into stores pre-filled with 0, 1M and 5M other indicators
 * (scaled); the rate at the largest size must stay ≥ 80% of the rate into an empty store.
 * Also reports bytes per indicator on disk.
 */
import { join } from 'node:path';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { openEmbeddedStore } from '../src/store/embedded/index.js';
import { serveFile, peakRssMb, round, type Row } from './lib.js';
import { CSV_COLUMNS, fill, ingest, source, tmp, writeCsv } from './ingest-kit.js';

function dirBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) n += statSync(join(dir, f)).size;
  return n;
}

export async function runW12(o: { scale: number }): Promise<Row[]> {
  const feedN = Math.max(2000, Math.round(200_000 * o.scale));
  const sizes = [0, 1_000_000, 5_000_000].map((n) => Math.round(n * o.scale));
  const dir = tmp('w12');
  const csv = join(dir, 'feed.csv');
  // the feed's values are disjoint from the pre-fill's (offset beyond the largest pre-fill)
  await writeCsv(csv, feedN, 0, 50_000_000);
  const { url, server } = await serveFile(csv);
  const rows: Row[] = [];
  // warm-up (JIT, page cache) into a throwaway store, so the first measured size is not penalised
  const warm = await openEmbeddedStore({ dataDir: join(dir, 'warm') });
  await ingest(warm, source('csv', url, { columns: CSV_COLUMNS }));
  await warm.close();
  rmSync(join(dir, 'warm'), { recursive: true, force: true });
  let base = 0;
  for (const size of sizes) {
    const storeDir = join(dir, `store-${size}`);
    const filler = await openEmbeddedStore({ dataDir: storeDir });
    const f0 = performance.now();
    await fill(filler, size);
    const fillSecs = (performance.now() - f0) / 1000;
    await filler.close();
    (globalThis as { gc?: () => void }).gc?.();
    // the measured ingest runs in a freshly opened store, as after a restart
    const store = await openEmbeddedStore({ dataDir: storeDir });
    const run = await ingest(store, source('csv', url, { columns: CSV_COLUMNS }));
    const rate = run.sum.created / run.secs;
    if (size === 0) base = rate;
    await store.close();
    const bytes = dirBytes(storeDir);
    const total = size + run.sum.created;
    rows.push({
      workload: 'W12', what: `ingest ${feedN} new indicators into a store holding ${size}`, items: run.sum.created, seconds: round(run.secs), rate: Math.round(rate),
      peak_rss_mb: peakRssMb(), target: 'rate at the largest store ≥ 80% of the rate at 0',
      ratio: size === 0 ? 'baseline' : `${round((rate / base) * 100, 1)}% of the empty-store rate`,
      note: `on disk ${Math.round(bytes / total)} B/indicator (${round(bytes / 1048576, 1)} MiB for ${total}); pre-fill ${round(fillSecs, 1)} s`,
    });
    rmSync(storeDir, { recursive: true, force: true });
  }
  server.close();
  rmSync(dir, { recursive: true, force: true });
  return rows;
}
