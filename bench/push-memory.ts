/**
 * Push memory (issue #13): a push of the whole store (1M indicators × STIXGATE_BENCH_SCALE) through
 * the sink runner to a sink that acknowledges every batch on the next turn of the event loop, with
 * the KV sink's limits (1,000 per batch, 4 in flight) and its mapping table. Each push runs in its own
 * process, which samples its heap every 20 ms and reports its peak heap and peak RSS, for the first
 * push of a new sink (the change log from 0) and for `push --full` (a scan of the active indicators).
 * The target: memory bounded by the batches in flight, whatever the store size.
 *
 *   node --import tsx bench/push-memory.ts [count]        (or `npm run bench -- pushmem`)
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openEmbeddedStore } from '../src/store/embedded/index.js';
import { runSink, type SinkRunOptions } from '../src/delivery/runner.js';
import type { Store } from '../src/store/contract.js';
import { loadSinkMapping } from '../src/delivery/records.js';
import type { Sink, SinkOutcome, SinkRecord } from '../src/delivery/types.js';
import { MAPPINGS_DIR } from '../src/paths.js';
import { round, type Row } from './lib.js';
import { NOW, fill, tmp } from './ingest-kit.js';
import { must } from '../test/helpers/must.js';
import { offlinePush } from '../test/helpers/offline-run.js';
import { commonConfig } from '../test/helpers/sink-kit.js';

const here = fileURLToPath(import.meta.url);
const MB = 1024 * 1024;

const CONFIG = commonConfig('bench', {
  max_tlp: 'clear',
  timeout_secs: 60,
  retry: { max_attempts: 1, base_delay_secs: 1, max_delay_secs: 1 },
});

/** Acknowledges every record on the next turn of the event loop; keeps counts only. */
export class CountingSink implements Sink {
  limits = { maxBatch: 1000, concurrency: 4 };
  records = 0;
  batches = 0;
  private async ack(records: SinkRecord[]): Promise<SinkOutcome[]> {
    await new Promise((r) => setImmediate(r));
    this.records += records.length;
    this.batches++;
    return records.map(() => ({ status: 'ok' as const }));
  }
  upsert(records: SinkRecord[]) {
    return this.ack(records);
  }
  remove(records: SinkRecord[]) {
    return this.ack(records);
  }
}

/** The runner's options for a push of `store` to `sink` (the KV sink's mapping), its dead letters in `dir`. */
export function benchPushOptions(store: Store, sink: Sink, id: string, dir: string): SinkRunOptions {
  return offlinePush({
    id,
    sink,
    config: CONFIG,
    store,
    mapping: loadSinkMapping(join(MAPPINGS_DIR, 'sinks', 'splunk_kv.yaml')).fields,
    deadLetter: join(dir, `dl-${id}.jsonl`),
    concurrency: 4,
    now: () => NOW,
  });
}

/** The measuring child: one push of the store in `dir`; prints its counts and peaks as JSON. */
async function child(dir: string, mode: 'changes' | 'full'): Promise<void> {
  const store = await openEmbeddedStore({ dataDir: join(dir, 'store') });
  const sink = new CountingSink();
  (globalThis as { gc?: () => void }).gc?.();
  const baseHeap = process.memoryUsage().heapUsed;
  const baseRss = process.memoryUsage().rss;
  let peakHeap = 0;
  const sample = () => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed));
  const timer = setInterval(sample, 20);
  const t0 = performance.now();
  const sum = await runSink({ ...benchPushOptions(store, sink, `mem-${mode}`, dir), full: mode === 'full' });
  const secs = (performance.now() - t0) / 1000;
  sample();
  clearInterval(timer);
  await store.close();
  process.stdout.write(
    `${JSON.stringify({ records: sink.records, batches: sink.batches, upserted: sum.upserted, secs, baseHeapMb: baseHeap / MB, baseRssMb: baseRss / MB, peakHeapMb: peakHeap / MB, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
  );
}

function measure(dir: string, mode: 'changes' | 'full') {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', here, 'child', dir, mode],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * MB },
  );
  if (r.status !== 0) throw new Error(`push-memory child (${mode}) exited with ${r.status}`);
  return JSON.parse(must(r.stdout.trim().split('\n').pop(), "r.stdout.trim().split('\\n').pop()")) as {
    records: number;
    batches: number;
    upserted: number;
    secs: number;
    baseHeapMb: number;
    baseRssMb: number;
    peakHeapMb: number;
    peakRssMb: number;
  };
}

export async function runPushMemory(o: { scale: number }): Promise<Row[]> {
  const n = Math.max(10_000, Math.round(1_000_000 * o.scale));
  const dir = tmp('pushmem');
  try {
    const store = await openEmbeddedStore({ dataDir: join(dir, 'store') });
    await fill(store, n);
    await store.close();
    const rows: Row[] = [];
    for (const mode of ['changes', 'full'] as const) {
      const m = measure(dir, mode);
      rows.push({
        workload: 'pushmem',
        what: `${mode === 'full' ? 'push --full' : 'first push (change log from 0)'}: ${n} indicators, 1000/batch, 4 in flight, in-process sink`,
        items: m.records,
        seconds: round(m.secs),
        rate: Math.round(m.records / m.secs),
        peak_rss_mb: Math.round(m.peakRssMb),
        target: 'memory bounded by the batches in flight, whatever the store size',
        note: `peak heap ${Math.round(m.peakHeapMb)} MB (${Math.round(m.baseHeapMb)} MB with the store open, before the push; RSS then ${Math.round(m.baseRssMb)} MB); ${m.batches} batches, ${m.upserted} upserted`,
      });
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === here) {
  if (process.argv[2] === 'child')
    await child(must(process.argv[3], 'process.argv[3]'), process.argv[4] as 'changes' | 'full');
  else {
    const rows = await runPushMemory({ scale: Number(process.argv[2] ?? 1_000_000) / 1_000_000 });
    for (const r of rows)
      console.log(`${r.what}: ${r.items} records in ${r.seconds} s, peak RSS ${r.peak_rss_mb} MB, ${r.note}`);
  }
}
