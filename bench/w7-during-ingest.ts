/**
 * W7: lookups during ingest. A store pre-filled with indicators serves single lookups at a steady
 * 2,000 req/s (× scale) from a separate load-generator process while a large CSV feed is ingested
 * into it, as in the daemon: the store, the lookup index follower, the correlation index and the
 * HTTP server in one process. Reported per store variant (the writer thread of ADR 0009, and the
 * in-thread store it replaced, as the in-run baseline): event-loop lag p99 during the ingest,
 * lookup p50/p99, lookups answered vs offered, and the ingest rate with and without the lookup
 * load; plus the daemon's ingest rate (index and correlation following) against a bare ingest
 * (what `stixgate ingest` runs) on the same feed.
 */
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openEmbeddedStore, openThreadedStore } from '../src/store/embedded/index.js';
import type { Store } from '../src/store/contract.js';
import { buildIndex, IndexFollower } from '../src/lookup/index.js';
import { buildServer } from '../src/server/index.js';
import { serverSchema } from '../src/server/schema.js';
import { validate } from '../src/core/schema.js';
import { Correlator } from '../src/correlate/index.js';
import { Metrics } from '../src/telemetry/metrics.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { syntheticValue, serveFile, round, type Row } from './lib.js';
import { NOW, CSV_COLUMNS, tmp, writeCsv, source, ingest, fill } from './ingest-kit.js';
import { must } from '../test/helpers/must.js';

const here = fileURLToPath(new URL('.', import.meta.url));

interface Loadgen {
  ok: number;
  errors: number;
  sent: number;
  seconds: number;
  p50: number;
  p99: number;
  lateMs: number;
}

function startLoadgen(url: string, rate: number, secs: number): Promise<Loadgen> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(here, 'loadgen.ts'), 'open', url, String(rate), String(secs)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(must(out.trim().split('\n').pop(), "out.trim().split('\\n').pop()")) as Loadgen)
        : reject(new Error(`loadgen exit ${code}`)),
    );
  });
}

type Variant = 'thread' | 'in-thread';

const openVariant = (v: Variant, dataDir: string): Promise<Store> =>
  v === 'thread' ? openThreadedStore({ dataDir }) : openEmbeddedStore({ dataDir });

interface Run {
  secs: number;
  created: number;
  cpu: number;
  lagP99: number;
  lagMax: number;
  load?: Loadgen;
  rate?: number;
  /** Change-log entries the correlation index had still to apply when the ingest ended. */
  correlationBehind: number;
}

/**
 * One ingest of the feed into a copy of the pre-filled store, with the daemon's followers running
 * (`daemon`) or not (a bare ingest), and lookups at `rate` for `loadSecs` when given.
 */
async function once(
  v: Variant,
  filled: string,
  dir: string,
  feedUrl: string,
  values: string[],
  o: { daemon: boolean; rate?: number; loadSecs?: number },
): Promise<Run> {
  const dataDir = join(dir, `run-${v}-${o.daemon ? 'd' : 'i'}-${o.rate ?? 0}`);
  cpSync(filled, dataDir, { recursive: true });
  const store = await openVariant(v, dataDir);
  const comp = source('csv', feedUrl, { columns: CSV_COLUMNS });
  let stop = async () => {};
  let ingesting = false;
  let behind = async () => 0;
  let loadP: Promise<Loadgen> | undefined;
  if (o.daemon) {
    const { index, seq } = await buildIndex(store, { now: () => NOW });
    const correlator = new Correlator({ dataDir });
    await correlator.catchUp(store);
    // as the daemon: while a source run ingests, the correlation index follows one slice per tick
    correlator.start(store, 1000, undefined, () => ingesting);
    behind = async () => (await store.head()) - correlator.seq;
    const follower = new IndexFollower(store, index, { from: seq, now: () => NOW, intervalMs: 500 });
    follower.start();
    const cfg = validate(serverSchema, { port: 0, anonymous_lookup: true, rate_limit: { enabled: false } });
    if (!cfg.ok) throw new Error(JSON.stringify(cfg.issues));
    const app = buildServer({
      config: cfg.value,
      index,
      store,
      metrics: new Metrics({ defaults: false }),
      logger: silentLogger(),
      isReady: () => true,
      now: () => NOW,
      correlator,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    stop = async () => {
      follower.stop();
      await app.close();
      await correlator.close();
    };
    if (o.rate) {
      const pathsFile = join(dir, 'paths.txt');
      writeFileSync(pathsFile, values.map((x) => `/api/v1/lookup?value=${encodeURIComponent(x)}`).join('\n'));
      const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      loadP = startLoadgen(`${base}/api/v1/lookup?values_file=${pathsFile}`, o.rate, o.loadSecs ?? 10);
      // the generator's one-second warm-up runs before the ingest starts
      await new Promise((r) => setTimeout(r, 1200));
    }
  }
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  ingesting = true;
  const run = await ingest(store, comp);
  ingesting = false;
  lag.disable();
  const correlationBehind = await behind();
  const load = loadP ? await loadP : undefined;
  await stop();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
  return {
    secs: run.secs,
    created: run.sum.created,
    cpu: run.cpu,
    lagP99: lag.percentile(99) / 1e6,
    lagMax: lag.max / 1e6,
    load,
    rate: o.rate,
    correlationBehind,
  };
}

export async function runW7({ scale }: { scale: number }): Promise<Row[]> {
  const prefill = Math.max(2000, Math.round(500_000 * scale));
  const feedRows = Math.max(2000, Math.round(1_000_000 * scale));
  const rate = Math.max(100, Math.round(2000 * scale));
  const dir = tmp('w7');
  const filled = join(dir, 'filled');
  const s0 = await openEmbeddedStore({ dataDir: filled });
  await fill(s0, prefill);
  await s0.close();
  // the feed: values after the pre-filled ones (all new)
  const csv = join(dir, 'feed.csv');
  await writeCsv(csv, feedRows, 0, prefill);
  const { url, server } = await serveFile(csv);
  // lookups: half pre-filled values (hits), half values of the feed (misses until stored)
  const values = Array.from(
    { length: 10_000 },
    (_, i) => syntheticValue(i % 2 ? (i * 7919) % prefill : prefill + ((i * 104729) % feedRows)).value,
  );
  const rows: Row[] = [];
  const what = `${feedRows}-row CSV into a ${prefill}-indicator store`;
  const per1k = (r: Run) => round((r.cpu / r.created) * 1000, 3);
  try {
    for (const v of ['thread', 'in-thread'] as const) {
      const label = v === 'thread' ? 'writer thread' : 'in-thread store (before ADR 0009)';
      const bare = await once(v, filled, dir, url, values, { daemon: false });
      const alone = await once(v, filled, dir, url, values, { daemon: true });
      // the lookups run about as long as the ingest took alone (it takes longer under load)
      const loaded = await once(v, filled, dir, url, values, {
        daemon: true,
        rate,
        loadSecs: Math.max(3, Math.round(alone.secs)),
      });
      const l = must(loaded.load, 'loaded.load');
      const offered = Math.round(rate * l.seconds);
      rows.push({
        workload: 'W7',
        what: `${label}: lookups at ${rate}/s during ${what}`,
        items: l.ok,
        rate: Math.round(l.ok / l.seconds),
        p50_ms: round(l.p50, 3),
        p99_ms: round(l.p99, 3),
        target: 'lag p99 ≤ 20 ms; lookup p99 ≤ 10 ms; all answered',
        ratio: `answered ${l.ok}/${offered} offered (${round((l.ok / offered) * 100, 1)}%)`,
        note: `event-loop lag during ingest p99 ${round(loaded.lagP99, 1)} ms, max ${round(loaded.lagMax, 1)} ms (without lookups p99 ${round(alone.lagP99, 1)} ms); errors ${l.errors}; generator late p99 ${l.lateMs} ms; load avg ${loadavg()
          .map((x) => round(x, 2))
          .join(' ')}`,
      });
      rows.push({
        workload: 'W7',
        what: `${label}: ingest rate under the lookup load`,
        items: loaded.created,
        seconds: round(loaded.secs),
        rate: Math.round(loaded.created / loaded.secs),
        cpu_s_per_1k: per1k(loaded),
        target: '≥ 70% of the rate without lookups',
        ratio: `${round((alone.secs / loaded.secs) * 100, 1)}% of ${Math.round(alone.created / alone.secs)}/s without lookups`,
      });
      rows.push({
        workload: 'W7',
        what: `${label}: daemon ingest (index + correlation following) vs bare ingest`,
        items: alone.created,
        seconds: round(alone.secs),
        rate: Math.round(alone.created / alone.secs),
        cpu_s_per_1k: per1k(alone),
        target: 'within 10% of the bare ingest',
        ratio: `${round((bare.secs / alone.secs) * 100, 1)}% of the bare ingest (${Math.round(bare.created / bare.secs)}/s, ${per1k(bare)} CPU-s/1k)`,
        note: `correlation index ${alone.correlationBehind} changes behind at the end (it follows one slice per second during a run, then catches up); load avg ${loadavg()
          .map((x) => round(x, 2))
          .join(' ')}; CPU counts every thread of the process`,
      });
    }
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
