/**
 * W12 growth: the W1 CSV ingest into stores pre-filled with 0, 1M and 5M other indicators
 * (scaled); the rate at the largest size must stay ≥ 80% of the rate into an empty store.
 * Also reports bytes per indicator on disk and in the key index (memory), and the open time.
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
  // STIXGATE_W12_10M=1 adds the 10M store of BENCHMARKS.md (a ~10 GB file and ~9 min of pre-fill)
  const big = process.env.STIXGATE_W12_10M === '1' ? [10_000_000] : [];
  // the empty store is measured first and again last; the better of the two is the baseline, so
  // that drift during the run (page cache, JIT, thermal) cannot flatter the large stores
  const sizes = [0, 1_000_000, 5_000_000, ...big, 0].map((n) => Math.round(n * o.scale));
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
  const rates: number[] = [];
  for (const size of sizes) {
    const storeDir = join(dir, `store-${size}`);
    const filler = await openEmbeddedStore({ dataDir: storeDir });
    const f0 = performance.now();
    await fill(filler, size);
    const fillSecs = (performance.now() - f0) / 1000;
    await filler.close();
    (globalThis as { gc?: () => void }).gc?.();
    // the measured ingest runs in a freshly opened store, as after a restart
    const o0 = performance.now();
    const store = await openEmbeddedStore({ dataDir: storeDir });
    const openSecs = (performance.now() - o0) / 1000;
    const run = await ingest(store, source('csv', url, { columns: CSV_COLUMNS }));
    const rate = run.sum.created / run.secs;
    rates.push(rate);
    const keys = store.keyIndexStats();
    await store.close();
    // the same open after a crash: no key snapshot, the key tables come from a scan
    rmSync(join(storeDir, 'keys.snapshot'), { force: true });
    const c0 = performance.now();
    const rescan = await openEmbeddedStore({ dataDir: storeDir });
    const scanSecs = (performance.now() - c0) / 1000;
    await rescan.close();
    const bytes = dirBytes(storeDir);
    const total = size + run.sum.created;
    rows.push({
      workload: 'W12', what: `ingest ${feedN} new indicators into a store holding ${size}`, items: run.sum.created, seconds: round(run.secs), rate: Math.round(rate),
      peak_rss_mb: peakRssMb(), target: 'rate at the largest store ≥ 80% of the rate at 0',
      ratio: '',
      note: `on disk ${Math.round(bytes / total)} B/indicator (${round(bytes / 1048576, 1)} MiB for ${total}); key index in memory ${round(keys.bytes / total, 1)} B/indicator (${round(keys.bytes / 1048576, 1)} MiB); open ${round(openSecs, 2)} s (keys from ${keys.loadedFrom}), ${round(scanSecs, 2)} s after a crash (scan); pre-fill ${round(fillSecs, 1)} s`,
    });
    rmSync(storeDir, { recursive: true, force: true });
  }
  const base = Math.max(...rates.filter((_, i) => sizes[i] === 0));
  rows.forEach((r, i) => {
    r.ratio = sizes[i] === 0 ? `baseline${rates[i] === base ? ' (the better empty-store run)' : ''}` : `${round((rates[i] / base) * 100, 1)}% of the empty-store rate`;
  });
  server.close();
  rmSync(dir, { recursive: true, force: true });
  return rows;
}
