/**
 * W15: firewall lists. A store of n IPv4 indicators (1M at scale 1) behind one `plain` list of
 * kind ip: the first build, how long after one change the new body is served (the change-log
 * read, the line moves and the body rebuild), and conditional GETs (If-None-Match → 304) per
 * second through the whole HTTP stack (key check, rate limits, metrics included; the lean path of
 * ADR 0015, and fastify's route alone for comparison), side by side with nginx serving the
 * same bytes from a file with one worker, the same load generator (autocannon, its own process).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import Fastify from 'fastify';
import { rmSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate } from '../src/core/schema.js';
import { indicatorFromObservable } from '../src/core/indicator.js';
import { accessPolicy } from '../src/access/policy.js';
import { EdlLists, edlSchema } from '../src/edl/index.js';
import { buildIndex } from '../src/lookup/index.js';
import { NO_DECAY_SCORING } from '../src/score/model.js';
import { buildServer, hashApiKey, serverSchema } from '../src/server/index.js';
import { openEmbeddedStore } from '../src/store/embedded/index.js';
import type { IngestItem, Store } from '../src/store/contract.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { EdlMetrics } from '../src/telemetry/edl-metrics.js';
import { Registry } from 'prom-client';
import { loadavg } from 'node:os';
import { Metrics } from '../src/telemetry/metrics.js';
import { NOW, tmp } from './ingest-kit.js';
import { peakRssMb, round, type Row } from './lib.js';
import { findNginx, startNginx } from './nginx.js';
import { must } from '../test/helpers/must.js';

const AUTOCANNON = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'autocannon', 'autocannon.js');
const KEY = 'k-bench-edl-0123456789abcdef';
const ACCESS = accessPolicy({ defaultTlp: 'amber', scoring: NO_DECAY_SCORING });

function ip(i: number): string {
  const n = (0x0b000000 + i) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function itemOf(i: number, now: string): IngestItem {
  return {
    object: indicatorFromObservable({ type: 'ipv4-addr', value: ip(i) }, { now, labels: ['botnet'] }),
    source: 'feed',
    confidence: 80,
    tlp: 'clear',
  };
}

async function fillIps(store: Store, n: number): Promise<void> {
  let batch: IngestItem[] = [];
  for (let i = 0; i < n; i++) {
    batch.push(itemOf(i, '2026-05-01T00:00:00.000Z'));
    if (batch.length === 20_000) {
      await store.upsert(batch, { now: NOW });
      batch = [];
    }
  }
  if (batch.length) await store.upsert(batch, { now: NOW });
}

interface CannonResult {
  rps: number;
  p99: number;
  total: number;
  statuses: Record<string, number>;
  errors: number;
}

/** autocannon in its own process: `connections` keep-alive connections for `secs` seconds. */
function autocannon(
  url: string,
  headers: Record<string, string>,
  connections: number,
  secs: number,
): Promise<CannonResult> {
  const args = [AUTOCANNON, '-j', '-c', String(connections), '-d', String(secs)];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}=${v}`);
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exit ${code}`));
      const j = JSON.parse(out) as {
        requests: { total: number };
        duration: number;
        latency: { p99: number };
        statusCodeStats?: Record<string, { count: number }>;
        errors: number;
        timeouts: number;
      };
      const statuses: Record<string, number> = {};
      for (const [s, v] of Object.entries(j.statusCodeStats ?? {})) statuses[s] = v.count;
      resolve({
        rps: j.requests.total / j.duration,
        p99: j.latency.p99,
        total: j.requests.total,
        statuses,
        errors: j.errors + j.timeouts,
      });
    });
  });
}

const median = (xs: number[]) =>
  must(
    [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)],
    '[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]',
  );

/** One server measured in turn with the others: its runs (CPU in this process when it runs here). */
interface Variant {
  name: string;
  url: string;
  headers: Record<string, string>;
  inProcess: boolean;
  runs: (CannonResult & { cpuUs: number })[];
}

/** A variant's runs together: requests/s over all of them, the median p99, each round's rate. */
function summary(v: Variant) {
  const total = v.runs.reduce((a, r) => a + r.total, 0);
  const statuses: Record<string, number> = {};
  for (const r of v.runs) for (const [k, c] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + c;
  return {
    total,
    statuses,
    rps: median(v.runs.map((r) => r.rps)),
    p99: median(v.runs.map((r) => r.p99)),
    errors: v.runs.reduce((a, r) => a + r.errors, 0),
    rounds: v.runs.map((r) => Math.round(r.rps)).join('/'),
    usPerReq: v.inProcess ? Math.round(v.runs.reduce((a, r) => a + r.cpuUs, 0) / Math.max(1, total)) : undefined,
  };
}

export async function runW15({ scale }: { scale: number }): Promise<Row[]> {
  const n = Math.max(10_000, Math.round(1_000_000 * scale));
  const secs = Math.max(3, Math.round(10 * Math.min(1, scale * 5)));
  const dir = tmp('w15');
  const rows: Row[] = [];
  const store = await openEmbeddedStore({ dataDir: join(dir, 'store'), scoring: NO_DECAY_SCORING });
  await fillIps(store, n);
  const cfg = validate(edlSchema, { lists: { big: { format: 'plain', kinds: ['ip'], max_entries: 10_000_000 } } });
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.issues));
  let clock = NOW;
  const lists = new EdlLists(store, cfg.value, { access: ACCESS, now: () => clock });
  const b0 = performance.now();
  await lists.build();
  const buildSecs = (performance.now() - b0) / 1000;
  const snap = () => {
    const r = lists.get('big', 'ip');
    if ('missing' in r) throw new Error('list missing');
    return r.snapshot;
  };
  const built = snap();
  rows.push({
    workload: 'W15',
    what: `first build of a ${n}-line list from the store`,
    items: built.entries,
    seconds: round(buildSecs),
    rate: Math.round(n / buildSecs),
    peak_rss_mb: peakRssMb(),
    note: `${round(built.body.length / 1048576, 1)} MiB body`,
  });

  // one change at a time: a new indicator, then a revocation; each timed from the store write's end to the new body
  const times: number[] = [];
  for (let k = 0; k < 6; k++) {
    clock += 1000;
    const it = itemOf(n + k, `2026-05-02T00:00:0${k}.000Z`);
    await store.upsert([it], { now: clock });
    const before = snap().etag;
    const t0 = performance.now();
    await lists.tick();
    times.push((performance.now() - t0) / 1000);
    if (snap().etag === before) throw new Error('the change did not reach the list');
  }
  const reads0 = lists.storeReads;
  const t1 = performance.now();
  await lists.tick();
  const idle = (performance.now() - t1) / 1000;
  rows.push({
    workload: 'W15',
    what: `regenerate a ${n}-line list after one change (read change log, move lines, rebuild body, hash)`,
    items: times.length,
    seconds: round(median(times), 3),
    target: 'regenerate 1M-line list ≤ 1 s',
    ratio: `median ${round(median(times), 3)} s, max ${round(Math.max(...times), 3)} s (${round(1 / Math.max(...times), 2)}× target at the max)`,
    note: `a tick with no change: ${round(idle * 1000, 2)} ms, ${lists.storeReads - reads0} store read, no rebuild`,
  });

  // serving: the daemon's HTTP stack, a key with the edl scope, rate limits on (their cost is paid)
  // with buckets the generator, one address and one key, cannot empty
  const bucket = { requests_per_sec: 1_000_000, burst: 10_000_000 };
  const server = validate(serverSchema, {
    port: 0,
    rate_limit: { enabled: true, per_address: bucket, per_key: bucket },
    api_keys: { fw: { hash: hashApiKey(KEY), scopes: ['edl'], max_tlp: 'green' } },
  });
  if (!server.ok) throw new Error(JSON.stringify(server.issues));
  const { index } = await buildIndex(store, { now: () => clock });
  /** The daemon's server over the lists: the lean path for plain list GETs (ADR 0015), or fastify's route alone. */
  const serve = async (lean: boolean) => {
    const app = buildServer({
      config: server.value,
      index,
      store,
      metrics: new Metrics({ defaults: false }),
      logger: silentLogger(),
      isReady: () => true,
      now: () => clock,
      access: ACCESS,
      edl: { lists, basicAuth: false, metrics: new EdlMetrics(new Registry()), lean },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    return { app, base: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` };
  };
  const lean = await serve(true);
  const slow = await serve(false);
  const body = snap();
  const g0 = performance.now();
  const full = await fetch(`${lean.base}/edl/big/ip`, { headers: { authorization: `Bearer ${KEY}` } });
  const fullBytes = (await full.arrayBuffer()).byteLength;
  const fullSecs = (performance.now() - g0) / 1000;
  const conditional = { authorization: `Bearer ${KEY}`, 'if-none-match': body.etag };
  // the framework's own ceiling in this run: fastify hello-world, same generator
  const hello = Fastify();
  hello.get('/', async () => ({ hello: 'world' }));
  await hello.listen({ host: '127.0.0.1', port: 0 });
  // the floor of any node server: node's http answering the same 304 head, no checks at all
  const bare = createServer((_req, res) => {
    res.writeHead(304, [
      'etag',
      body.etag,
      'last-modified',
      body.lastModifiedHttp,
      'cache-control',
      'private, no-cache',
    ]);
    res.end();
  });
  await new Promise<void>((ok) => bare.listen(0, '127.0.0.1', ok));
  // the ceiling for serving the file: nginx, one worker
  const file = join(dir, 'www', 'big.txt');
  rmSync(dirname(file), { recursive: true, force: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(dirname(file), { recursive: true }));
  writeFileSync(file, body.body);
  const found = findNginx();
  const ng = 'bin' in found ? await startNginx(found.bin, file, join(dir, 'nginx')) : undefined;
  const variants: Variant[] = [
    { name: 'lean', url: `${lean.base}/edl/big/ip`, headers: conditional, inProcess: true, runs: [] },
    { name: 'route', url: `${slow.base}/edl/big/ip`, headers: conditional, inProcess: true, runs: [] },
    {
      name: 'hello',
      url: `http://127.0.0.1:${(hello.server.address() as { port: number }).port}/`,
      headers: {},
      inProcess: true,
      runs: [],
    },
    {
      name: 'node',
      url: `http://127.0.0.1:${(bare.address() as { port: number }).port}/edl/big/ip`,
      headers: conditional,
      inProcess: true,
      runs: [],
    },
  ];
  if (ng) {
    const head = await fetch(ng.url);
    await head.arrayBuffer();
    variants.push({
      name: 'nginx',
      url: ng.url,
      headers: { 'if-none-match': head.headers.get('etag') ?? '' },
      inProcess: false,
      runs: [],
    });
  }
  // rounds in turn (lean, route, hello, nginx, lean, …): on a shared, loaded box each ratio is
  // taken between runs seconds apart, and the medians over the rounds are reported
  const rounds = Number(process.env.STIXGATE_W15_ROUNDS ?? 5);
  const perRound = Math.max(2, Math.round(secs / 3));
  const loads: number[] = [must(loadavg()[0], 'loadavg()[0]')];
  try {
    for (let r = 0; r < rounds; r++) {
      for (const v of variants) {
        const c0 = process.threadCpuUsage();
        const res = await autocannon(v.url, v.headers, 100, perRound);
        const cpu = process.threadCpuUsage(c0);
        v.runs.push({ ...res, cpuUs: cpu.user + cpu.system });
      }
      loads.push(must(loadavg()[0], 'loadavg()[0]'));
    }
  } finally {
    ng?.stop();
    await Promise.all([lean.app.close(), slow.app.close(), hello.close(), new Promise((ok) => bare.close(ok))]);
  }
  const [ours, viaFastify, helloRes, bareRes, peer] = variants.map(summary);
  if (!ours || !viaFastify || !helloRes || !bareRes) throw new Error('W15: a server variant has no summary');
  const ratio = (a: Variant, b: Variant) => median(a.runs.map((x, i) => x.rps / must(b.runs[i], 'b.runs[i]').rps));
  const loadNote = `load average ${loads.map((l) => round(l, 1)).join(' → ')} over ${rounds} rounds of ${perRound} s per server`;
  rows.push({
    workload: 'W15',
    what: `conditional GET (If-None-Match → 304) on the lean path, ${n}-line list, autocannon c100`,
    items: must(ours, 'ours').total,
    rate: Math.round(must(ours, 'ours').rps),
    p99_ms: must(ours, 'ours').p99,
    target: 'conditional GET ≥ 50k rps',
    ratio: peer
      ? `${round(ratio(must(variants[0], 'variants[0]'), must(variants[4], 'variants[4]')) * 100, 1)}% of nginx (median of rounds; nginx ${Math.round(peer.rps)} rps, p99 ${peer.p99} ms, same file, 1 worker)`
      : `${round(must(ours, 'ours').rps / 50_000, 2)}× target; nginx row skipped`,
    note: `${round(ratio(must(variants[0], 'variants[0]'), must(variants[2], 'variants[2]')) * 100, 1)}% of fastify hello-world (${Math.round(must(helloRes, 'helloRes').rps)} rps, ${must(helloRes, 'helloRes').usPerReq} µs CPU/request); ${round(ratio(must(variants[0], 'variants[0]'), must(variants[3], 'variants[3]')) * 100, 1)}% of bare node http answering the same 304 (${Math.round(must(bareRes, 'bareRes').rps)} rps, ${must(bareRes, 'bareRes').usPerReq} µs CPU/request); rounds ${must(ours, 'ours').rounds}; 304s ${must(ours.statuses['304'], "ours.statuses['304']") ?? 0} of ${must(ours, 'ours').total}, errors ${must(ours, 'ours').errors}; server ${must(ours, 'ours').usPerReq} µs CPU/request; one full GET: ${round(fullBytes / 1048576, 1)} MiB in ${round(fullSecs, 3)} s; ${loadNote}`,
  });
  rows.push({
    workload: 'W15',
    what: 'the same conditional GETs through the fastify route (lean path off), autocannon c100',
    items: must(viaFastify, 'viaFastify').total,
    rate: Math.round(must(viaFastify, 'viaFastify').rps),
    p99_ms: must(viaFastify, 'viaFastify').p99,
    ratio: `lean path ${round(ratio(must(variants[0], 'variants[0]'), must(variants[1], 'variants[1]')), 2)}× this (median of rounds)`,
    note: `rounds ${must(viaFastify, 'viaFastify').rounds}; 304s ${must(viaFastify, 'viaFastify').statuses['304'] ?? 0} of ${must(viaFastify, 'viaFastify').total}; server ${must(viaFastify, 'viaFastify').usPerReq} µs CPU/request; ${round(ratio(must(variants[1], 'variants[1]'), must(variants[2], 'variants[2]')) * 100, 1)}% of fastify hello-world`,
  });
  rows.push(
    peer
      ? {
          workload: 'W15',
          what: 'peer: nginx serving the same file (If-None-Match → 304), autocannon c100',
          items: peer.total,
          rate: Math.round(peer.rps),
          p99_ms: peer.p99,
          note: `nginx ${(found as { bin: string }).bin}: rounds ${peer.rounds}; statuses ${JSON.stringify(peer.statuses)}, errors ${peer.errors}`,
        }
      : {
          workload: 'W15',
          what: 'peer: nginx serving the same file',
          note: `skipped: ${(found as { skip: string }).skip}`,
        },
  );
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return rows;
}
