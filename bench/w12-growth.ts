/**
 * W12 growth: the W1 CSV ingest into stores pre-filled with 0, 1M and 5M other indicators
 * (scaled); the rate at the largest size must stay ≥ 80% of the rate into an empty store.
 * Also reports bytes per indicator on disk and in the key index (memory), and the open time.
 *
 * The measured ingest runs in a fresh process, as after a restart (the pre-fill's heap and
 * caches would otherwise weigh on the large stores only: measured in the filling process, a 5M
 * store came out 12-18% slower than a 1M one; in a fresh process it is within noise).
 */

interface Measured {
  created: number;
  secs: number;
  openSecs: number;
  scanSecs: number;
  keyBytes: number;
  loadedFrom: string;
  rssMb: number;
}

/** Child side: warm up (JIT) into a throwaway store, then open the store, ingest, close, reopen by scan. */
async function measure(storeDir: string, url: string): Promise<Measured> {
  const warmDir = `${storeDir}-warm`;
  const warm = await openEmbeddedStore({ dataDir: warmDir });
  await ingest(warm, source('csv', url, { columns: CSV_COLUMNS }));
  await warm.close();
  rmSync(warmDir, { recursive: true, force: true });
  (globalThis as { gc?: () => void }).gc?.();
  const o0 = performance.now();
  const store = await openEmbeddedStore({ dataDir: storeDir });
  const openSecs = (performance.now() - o0) / 1000;
  const run = await ingest(store, source('csv', url, { columns: CSV_COLUMNS }));
  const keys = store.keyIndexStats();
  await store.close();
  // the same open after a crash: no key snapshot, the key tables come from a scan
  rmSync(join(storeDir, 'keys.snapshot'), { force: true });
  const c0 = performance.now();
  const rescan = await openEmbeddedStore({ dataDir: storeDir });
  const scanSecs = (performance.now() - c0) / 1000;
  await rescan.close();
  return {
    created: run.sum.created,
    secs: run.secs,
    openSecs,
    scanSecs,
    keyBytes: keys.bytes,
    loadedFrom: keys.loadedFrom,
    rssMb: peakRssMb(),
  };
}

/** Runs `measure` in a child (asynchronously: this process serves the feed meanwhile). */
function measureInChild(storeDir: string, url: string): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), 'measure', storeDir, url],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`W12 measurement of ${storeDir} failed (exit ${code})`));
      else resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as Measured);
    });
  });
}

if (process.argv[2] === 'measure') {
  measure(must(process.argv[3], 'process.argv[3]'), must(process.argv[4], 'process.argv[4]')).then(
    (m) => console.log(JSON.stringify(m)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { openEmbeddedStore } from '../src/store/embedded/index.js';
import { serveFile, peakRssMb, round, type Row } from './lib.js';
import { CSV_COLUMNS, fill, ingest, source, tmp, writeCsv } from './ingest-kit.js';
import { must } from '../test/helpers/must.js';

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
  const rates: number[] = [];
  for (const size of sizes) {
    const storeDir = join(dir, `store-${size}`);
    const filler = await openEmbeddedStore({ dataDir: storeDir });
    const f0 = performance.now();
    await fill(filler, size);
    const fillSecs = (performance.now() - f0) / 1000;
    await filler.close();
    (globalThis as { gc?: () => void }).gc?.();
    const m = await measureInChild(storeDir, url);
    const rate = m.created / m.secs;
    rates.push(rate);
    const bytes = dirBytes(storeDir);
    const total = size + m.created;
    rows.push({
      workload: 'W12',
      what: `ingest ${feedN} new indicators into a store holding ${size} (fresh process)`,
      items: m.created,
      seconds: round(m.secs),
      rate: Math.round(rate),
      peak_rss_mb: m.rssMb,
      target: 'rate at the largest store ≥ 80% of the rate at 0',
      ratio: '',
      note: `on disk ${Math.round(bytes / total)} B/indicator (${round(bytes / 1048576, 1)} MiB for ${total}); key index in memory ${round(m.keyBytes / total, 1)} B/indicator (${round(m.keyBytes / 1048576, 1)} MiB); open ${round(m.openSecs, 2)} s (keys from ${m.loadedFrom}), ${round(m.scanSecs, 2)} s after a crash (scan); pre-fill ${round(fillSecs, 1)} s`,
    });
    rmSync(storeDir, { recursive: true, force: true });
  }
  const base = Math.max(...rates.filter((_, i) => sizes[i] === 0));
  rows.forEach((r, i) => {
    r.ratio =
      sizes[i] === 0
        ? `baseline${rates[i] === base ? ' (the better empty-store run)' : ''}`
        : `${round((must(rates[i], 'rates[i]') / base) * 100, 1)}% of the empty-store rate`;
  });
  server.close();
  rmSync(dir, { recursive: true, force: true });
  return rows;
}
