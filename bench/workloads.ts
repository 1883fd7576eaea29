/**
 * Benchmark workloads, each run in its own process by bench/run.ts (so peak RSS is per
 * workload). Usage: workloads.ts NAME SCALE → prints a JSON array of Rows on the last line.
 */
import { writeFileSync, createWriteStream, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import Fastify from 'fastify';
import { silentLogger } from '../src/telemetry/logger.js';
import { Metrics } from '../src/telemetry/metrics.js';
import { openEmbeddedStore } from '../src/store/embedded/index.js';
import { buildIndex } from '../src/lookup/index.js';
import { buildServer } from '../src/server/index.js';
import { serverSchema } from '../src/server/schema.js';
import { validate } from '../src/core/schema.js';
import { detectObservable } from '../src/core/observable.js';
import { indicatorFromObservable } from '../src/core/indicator.js';
import { runXmlBench } from './w-xml.js';
import { runW14 } from './w14-opensearch.js';
import { runW14c } from './w14-changelog.js';
import { runW3 } from './w3-misp.js';
import { syntheticValue, serveFile, peakRssMb, round, type Row } from './lib.js';
import { isoDaysBefore } from './clock.js';
import { accessFingerprint, readLookupSnapshot, writeLookupSnapshot } from '../src/lookup/snapshot.js';
import { DEFAULT_POLICY } from '../src/access/policy.js';
import { CSV_COLUMNS, NOW, tmp, writeCsv, source, ingest, fill } from './ingest-kit.js';
import { runW12 } from './w12-growth.js';
import { runPushBench } from './w8-sinks.js';
import { loadgen, loadNote } from './loadgen-client.js';
import { runA9 } from './a9-flood.js';
import { runW7 } from './w7-during-ingest.js';
import { runRedos } from './redos.js';
import { runWarninglists } from './w-warninglists.js';
import { runW15 } from './w15-edl.js';
import { runLedgerBench } from './w-ledger.js';
import { runLedgerOpenSearchBench } from './w-ledger-os.js';
import { runLedgerPushBench } from './w-ledger-push.js';
import { runScoreHistoryBench } from './w-score-history.js';
import { runReconcileBench } from './reconcile.js';
import { runPushMemory } from './push-memory.js';
import { runPeers } from './w-peers.js';
import { runSoak } from './soak.js';
import { runMapShard } from './w-mapshard.js';
import { runIngestMemory } from './w-ingest-memory.js';
import { runCapacity } from './w-capacity.js';

/** W1 (1M-row CSV over HTTP) and W4 (the same again, then with 10% changed). */
async function w1w4(scale: number): Promise<Row[]> {
  const n = Math.max(1000, Math.round(1_000_000 * scale));
  const dir = tmp('w1');
  const csv = join(dir, 'feed.csv');
  await writeCsv(csv, n);
  const bytes = statSync(csv).size;
  // in-run peer: the raw line/field split ceiling over the same bytes
  const p0 = performance.now();
  const text = readFileSync(csv, 'latin1');
  let fields = 0;
  for (const line of text.split('\n')) fields += line.split(',').length;
  const rawSecs = (performance.now() - p0) / 1000;
  const { url, server } = await serveFile(csv);
  const store = await openEmbeddedStore({ dataDir: join(dir, 'store') });
  const comp = source('csv', url, { columns: CSV_COLUMNS });
  const first = await ingest(store, comp);
  const rows: Row[] = [];
  const rate = first.sum.created / first.secs;
  rows.push({
    workload: 'W1',
    what: `CSV ${round(bytes / 1048576, 1)} MiB over HTTP → store`,
    items: first.sum.created,
    seconds: round(first.secs),
    rate: Math.round(rate),
    peak_rss_mb: peakRssMb(),
    cpu_s_per_1k: round((first.cpu / n) * 1000, 3),
    target: '≥ 100k indicators/s',
    ratio: `${round(rate / 100_000)}× target; ${round(n / rawSecs / rate, 1)}× slower than raw split (${Math.round(n / rawSecs)} rows/s, ${fields} fields)`,
    note: `rejected ${first.sum.rejected}`,
  });
  const head0 = await store.head();
  const second = await ingest(store, comp);
  const writes = second.sum.created + second.sum.updated;
  rows.push({
    workload: 'W4',
    what: 'unchanged re-poll (full fetch)',
    items: n,
    seconds: round(second.secs),
    rate: Math.round(n / second.secs),
    cpu_s_per_1k: round((second.cpu / n) * 1000, 3),
    target: '≤ 30% of W1 time; 0 writes',
    ratio: `${round((second.secs / first.secs) * 100, 1)}% of W1 time`,
    note: `store writes ${writes}, change-log entries ${(await store.head()) - head0}`,
  });
  server.close();
  await writeCsv(csv, n, 10);
  const changed = await serveFile(csv);
  const comp2 = source('csv', changed.url, { columns: CSV_COLUMNS });
  const head1 = await store.head();
  const third = await ingest(store, comp2);
  rows.push({
    workload: 'W4',
    what: 're-poll with 10% changed',
    items: n,
    seconds: round(third.secs),
    rate: Math.round(n / third.secs),
    cpu_s_per_1k: round((third.cpu / n) * 1000, 3),
    ratio: `${round((third.secs / first.secs) * 100, 1)}% of W1 time`,
    note: `updated ${third.sum.updated}, change-log entries ${(await store.head()) - head1}`,
  });
  changed.server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

/** W2: a STIX 2.1 bundle of 100k indicators from a file. */
async function w2(scale: number): Promise<Row[]> {
  const n = Math.max(1000, Math.round(100_000 * scale));
  const dir = tmp('w2');
  const file = join(dir, 'bundle.json');
  const out = createWriteStream(file);
  out.write('{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[');
  for (let i = 0; i < n; i++) {
    const { type, value } = syntheticValue(i, 7);
    const r = detectObservable(type === 'sha256' ? value : value);
    if (!r.ok) continue;
    const ind = indicatorFromObservable(r.observable, {
      now: isoDaysBefore(31),
      labels: ['bench'],
      description: 'synthetic indicator for the W2 benchmark '.repeat(4),
    });
    if (!out.write(`${i ? ',' : ''}${JSON.stringify(ind)}`))
      await new Promise<void>((res) => out.once('drain', () => res()));
  }
  out.end(']}');
  await new Promise<void>((r) => out.on('finish', () => r()));
  const bytes = statSync(file).size;
  const p0 = performance.now();
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { objects: unknown[] };
  const parseSecs = (performance.now() - p0) / 1000;
  const count = parsed.objects.length;
  const store = await openEmbeddedStore({ dataDir: join(dir, 'store') });
  const run = await ingest(store, source('stix_bundle', `file://${file}`, {}));
  const rate = run.sum.created / run.secs;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return [
    {
      workload: 'W2',
      what: `STIX bundle ${round(bytes / 1048576, 1)} MiB (file) → store`,
      items: run.sum.created,
      seconds: round(run.secs),
      rate: Math.round(rate),
      peak_rss_mb: peakRssMb(),
      cpu_s_per_1k: round((run.cpu / n) * 1000, 3),
      target: '≥ 40k objects/s',
      ratio: `${round(rate / 40_000)}× target; JSON.parse of the whole file alone: ${Math.round(count / parseSecs)} objects/s`,
      note: `rejected ${run.sum.rejected}`,
    },
  ];
}

/** W11 (restart: open + index build), hot-index bytes, W5 (single lookups), W6 (batches). */
async function lookups(scale: number): Promise<Row[]> {
  const n = Math.max(2000, Math.round(1_000_000 * scale));
  const secs = Math.max(2, Math.round(10 * Math.min(1, scale * 5)));
  const dir = tmp('w5');
  let store = await openEmbeddedStore({ dataDir: join(dir, 'store') });
  await fill(store, n);
  await store.close();
  const rows: Row[] = [];

  (globalThis as { gc?: () => void }).gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  store = await openEmbeddedStore({ dataDir: join(dir, 'store') });
  const tOpen = performance.now();
  const { index } = await buildIndex(store, { now: () => NOW });
  const tReady = performance.now();
  (globalThis as { gc?: () => void }).gc?.();
  const heapPer = (process.memoryUsage().heapUsed - heap0) / n;
  rows.push({
    workload: 'W11',
    what: `restart with ${n} indicators: open store + build index`,
    items: n,
    seconds: round((tReady - t0) / 1000),
    peak_rss_mb: peakRssMb(),
    target: 'ready ≤ 10 s (5M)',
    note: `open ${round((tOpen - t0) / 1000, 3)} s, index ${round((tReady - tOpen) / 1000)} s`,
  });
  {
    // the same restart from the lookup snapshot (docs/adr/0020-lookup-snapshot.md): written at the previous stop, read instead of the build
    const snap = join(dir, 'lookup.snapshot');
    const id = { token: 'bench', policy: accessFingerprint(DEFAULT_POLICY) };
    const w0 = performance.now();
    const bytes = await writeLookupSnapshot(snap, index, id);
    const w1 = performance.now();
    const restored = await readLookupSnapshot(snap, id, { now: () => NOW });
    const r1 = performance.now();
    if (restored.size !== index.size)
      throw new Error(`the snapshot restored ${restored.size} of ${index.size} indicators`);
    rows.push({
      workload: 'W11',
      what: `restart with ${n} indicators: open store + read the lookup snapshot`,
      items: n,
      seconds: round((tOpen - t0 + r1 - w1) / 1000),
      target: 'ready ≤ 10 s (5M)',
      ratio: `${round((tReady - tOpen) / (r1 - w1), 1)}× faster than the build`,
      note: `read ${round((r1 - w1) / 1000, 3)} s; written at stop in ${round((w1 - w0) / 1000, 3)} s, ${round(bytes / 1048576, 1)} MiB (${Math.round(bytes / n)} B per indicator)`,
    });
  }
  rows.push({
    workload: 'mem',
    what: 'hot index heap per indicator (includes store caches)',
    items: n,
    target: '≤ 250 B',
    ratio: `${Math.round(heapPer)} B`,
    note: (globalThis as { gc?: unknown }).gc ? 'after gc' : 'run with --expose-gc for an exact figure',
  });

  // in-process lookup ceiling
  const values = Array.from({ length: 10_000 }, (_, i) =>
    i % 2 ? syntheticValue((i * 7919) % n).value : syntheticValue(n + i).value,
  );
  let hits = 0;
  const l0 = performance.now();
  for (let k = 0; k < 20; k++) for (const v of values) if (index.lookup(v, NOW, 'amber').matched) hits++;
  const inproc = (20 * values.length) / ((performance.now() - l0) / 1000);
  rows.push({
    workload: 'W5',
    what: 'in-process LookupIndex.lookup (50% hits)',
    items: 20 * values.length,
    rate: Math.round(inproc),
    note: `hits ${hits}`,
  });

  const metrics = new Metrics({ defaults: false });
  // the generator sends from one address far above any per-address rate limit: W5 measures lookups, not refusals
  const cfg = validate(serverSchema, {
    port: 0,
    anonymous_lookup: true,
    max_batch_size: 1000,
    rate_limit: { enabled: false },
  });
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.issues));
  const app = buildServer({
    config: cfg.value,
    index,
    store,
    metrics,
    logger: silentLogger(),
    isReady: () => true,
    now: () => NOW,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const pathsFile = join(dir, 'paths.txt');
  writeFileSync(pathsFile, values.map((v) => `/api/v1/lookup?value=${encodeURIComponent(v)}`).join('\n'));

  // peer in the same run: fastify hello-world on the same box, same generator
  const hello = Fastify();
  hello.get('/', async () => ({ hello: 'world' }));
  await hello.listen({ host: '127.0.0.1', port: 0 });
  const helloRes = await loadgen([
    'closed',
    `http://127.0.0.1:${(hello.server.address() as { port: number }).port}/`,
    '64',
    String(secs),
  ]);
  await hello.close();

  for (const rate of [5000, 20000]) {
    const r = await loadgen(['open', `${base}/api/v1/lookup?values_file=${pathsFile}`, String(rate), String(secs)]);
    rows.push({
      workload: 'W5',
      what: `single lookups, open loop ${rate} rps, ${n} indicators`,
      items: r.ok,
      rate: Math.round(r.rps),
      p50_ms: round(r.p50, 3),
      p99_ms: round(r.p99, 3),
      p999_ms: round(r.p999, 3),
      target: rate === 20000 ? 'p99 ≤ 2 ms, p99.9 ≤ 10 ms' : undefined,
      note: loadNote(r),
    });
  }
  const max = await loadgen(['closed', `${base}/api/v1/lookup?values_file=${pathsFile}`, '64', String(secs)]);
  rows.push({
    workload: 'W5',
    what: 'single lookups, max rps (closed loop, 64 conns)',
    items: max.ok,
    rate: Math.round(max.rps),
    p99_ms: round(max.p99, 3),
    target: '≥ 60k rps; ≥ 70% of fastify hello-world',
    ratio: `${round((max.rps / helloRes.rps) * 100, 1)}% of fastify hello-world (${Math.round(helloRes.rps)} rps in this run)`,
    note: `${loadNote(max)}; hello-world: ${loadNote(helloRes)}`,
  });

  for (const size of [100, 1000]) {
    const batchFile = join(dir, `batch-${size}.json`);
    writeFileSync(batchFile, JSON.stringify({ values: values.slice(0, size) }));
    const b = await loadgen(['closed', `${base}/api/v1/lookup`, '8', String(secs), batchFile]);
    rows.push({
      workload: 'W6',
      what: `batch lookups, ${size} values per POST, 8 conns`,
      items: b.ok * size,
      rate: Math.round(b.rps * size),
      p99_ms: round(b.p99, 3),
      target: '≥ 500k lookups/s',
      ratio: `${round((b.rps * size) / 500_000)}× target`,
      note: `${loadNote(b)}; load avg ${loadavg()
        .map((x) => round(x, 2))
        .join(' ')}`,
    });
  }
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

const workloads: Record<string, (scale: number) => Promise<Row[]>> = {
  w1w4,
  w2,
  lookups,
  w3: (scale) => runW3({ scale }),
  xml: (scale) => runXmlBench({ scale }),
  w14: (scale) => runW14({ scale }),
  w14c: (scale) => runW14c({ scale }),
  w7: (scale) => runW7({ scale }),
  w12: (scale) => runW12({ scale }),
  push: (scale) => runPushBench({ scale }),
  pushmem: (scale) => runPushMemory({ scale }),
  a9: (scale) => runA9({ scale }),
  redos: async () => runRedos(),
  warninglists: (scale) => runWarninglists(scale),
  w15: (scale) => runW15({ scale }),
  ledger: (scale) => runLedgerBench({ scale }),
  ledgeros: (scale) => runLedgerOpenSearchBench({ scale }),
  ledgerpush: (scale) => runLedgerPushBench({ scale }),
  history: (scale) => runScoreHistoryBench({ scale }),
  reconcile: (scale) => runReconcileBench({ scale }),
  peers: (scale) => runPeers({ scale }),
  soak: (scale) => runSoak({ scale, minutes: Number(process.env.STIXGATE_BENCH_MINUTES ?? 30) }),
  mapshard: (scale) => runMapShard({ scale }),
  ingestmem: (scale) => runIngestMemory({ scale }),
  capacity: (scale) => runCapacity({ scale }),
};
const [name, scaleArg] = process.argv.slice(2);
const fn = workloads[name ?? ''];
if (!fn) {
  process.stderr.write(`unknown workload ${name}; known: ${Object.keys(workloads).join(', ')}\n`);
  process.exit(2);
}
const rows = await fn(Number(scaleArg ?? 1));
process.stdout.write(`\n${JSON.stringify(rows)}\n`);
