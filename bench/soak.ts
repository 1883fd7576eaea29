/**
 * `npm run bench -- soak [--minutes N]` (30 by default): the daemon's parts in one process, as in
 * W7 (writer-thread store, lookup index follower, correlation index, HTTP server), with a CSV feed
 * of 50k rows (× scale) polled every minute and single lookups at a steady 2,000/s (× scale) from
 * bench/loadgen.ts, plus a /metrics scrape every 15 s. The feed rotates within a fixed set of twice
 * its size (and re-tags a tenth of its rows between polls), so the store stops growing after the
 * first polls while every poll still reads, compares and updates.
 *
 * Reported per 30-second window (a poll starts every other window): lookups answered, p50/p99,
 * event-loop lag p99/max, RSS, heap and open file descriptors. Summary rows: lookup p99 and lag in
 * windows with a poll against the others, RSS drift and FDs over the windows after the store
 * stopped growing. Every window goes to stderr as a table and to bench/out/soak.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openThreadedStore } from '../src/store/embedded/index.js';
import { buildIndex, IndexFollower } from '../src/lookup/index.js';
import { Correlator } from '../src/correlate/index.js';
import { round, syntheticValue, type Row } from './lib.js';
import { CSV_COLUMNS, NOW, ingest, source, tmp, writeCsv } from './ingest-kit.js';
import { must } from '../test/helpers/must.js';
import { startLookupServer } from './lookup-server.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const WINDOW_SECS = 30;
/** A poll starts with every other window. */
const POLL_SECS = 2 * WINDOW_SECS;
const SCRAPE_SECS = 15;

interface Window {
  window: number;
  /** Minutes since the lookups started, at the window's end. */
  at_min: number;
  poll: boolean;
  ok: number;
  errors: number;
  p50: number;
  p99: number;
  lag_p99: number;
  lag_max: number;
  rss_mb: number;
  heap_mb: number;
  fds: number;
  objects: number;
}

interface Poll {
  start: number;
  end?: number;
  created: number;
  updated: number;
  secs: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

export async function runSoak({ scale, minutes }: { scale: number; minutes: number }): Promise<Row[]> {
  const feedRows = 2 * Math.max(1000, Math.round(25_000 * scale));
  const valueSet = 2 * feedRows;
  const rate = Math.max(100, Math.round(2000 * scale));
  const dir = tmp('soak');
  const dataDir = join(dir, 'store');
  // four rotations of the feed, each shifted by half a feed: a value is in two consecutive polls
  const feeds = Array.from({ length: valueSet / (feedRows / 2) }, (_, k) => join(dir, `feed-${k}.csv`));
  for (const [k, f] of feeds.entries()) await writeCsv(f, feedRows, 10 + (k % 2), (k * feedRows) / 2, valueSet);
  let pollNo = 0;
  const feedServer = createServer((_req, res) => {
    const body = readFileSync(must(feeds[pollNo % feeds.length], 'feeds[pollNo % feeds.length]'));
    res.writeHead(200, { 'content-type': 'text/csv', 'content-length': String(body.length) });
    res.end(body);
  });
  await new Promise<void>((r) => feedServer.listen(0, '127.0.0.1', r));
  const feedUrl = `http://127.0.0.1:${(feedServer.address() as { port: number }).port}/feed.csv`;

  const store = await openThreadedStore({ dataDir });
  const { index, seq } = await buildIndex(store, { now: () => NOW });
  const correlator = new Correlator({ dataDir });
  await correlator.catchUp(store);
  let ingesting = false;
  correlator.start(store, 1000, undefined, () => ingesting);
  const follower = new IndexFollower(store, index, { from: seq, now: () => NOW, intervalMs: 500 });
  follower.start();
  const { app, base } = await startLookupServer({ index, store, defaultMetrics: true, correlator });
  // lookups: half values of the rotating set (hits once stored), half never stored
  const paths = join(dir, 'paths.txt');
  writeFileSync(
    paths,
    Array.from({ length: 10_000 }, (_, i) => {
      const v = syntheticValue(i % 2 ? (i * 7919) % valueSet : valueSet + i).value;
      return `/api/v1/lookup?value=${encodeURIComponent(v)}`;
    }).join('\n'),
  );

  const comp = source('csv', feedUrl, { columns: CSV_COLUMNS });
  const polls: Poll[] = [];
  let running: Promise<void> | undefined;
  const poll = (): void => {
    if (running) return;
    const p: Poll = { start: performance.now(), created: 0, updated: 0, secs: 0 };
    polls.push(p);
    ingesting = true;
    running = ingest(store, comp)
      .then((r) => {
        p.created = r.sum.created;
        p.updated = r.sum.updated;
        p.secs = r.secs;
      })
      .finally(() => {
        p.end = performance.now();
        ingesting = false;
        pollNo++;
        running = undefined;
      });
  };
  const scrape = (): void => {
    void fetch(`${base}/metrics`).then((r) => r.text());
  };

  const lag = monitorEventLoopDelay({ resolution: 1 });
  const windows: Window[] = [];
  let t0 = 0;
  let scrapeTimer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(here, 'loadgen.ts'),
        'open',
        `${base}/api/v1/lookup?values_file=${paths}`,
        String(rate),
        String(minutes * 60),
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, STIXGATE_LOADGEN_WINDOW_SECS: String(WINDOW_SECS) },
      },
    );
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('{"measuring"')) {
          // the first poll starts with the first window, and another with every other window
          t0 = performance.now();
          lag.enable();
          poll();
          scrapeTimer = setInterval(scrape, SCRAPE_SECS * 1000);
          continue;
        }
        if (!line.startsWith('{"window"')) continue;
        const w = JSON.parse(line) as { window: number; ok: number; errors: number; p50: number; p99: number };
        const end = performance.now();
        const begin = end - WINDOW_SECS * 1000;
        const mem = process.memoryUsage();
        windows.push({
          window: w.window,
          at_min: round((end - t0) / 60_000, 1),
          poll: polls.some((p) => p.start < end && (p.end ?? end) > begin),
          ok: w.ok,
          errors: w.errors,
          p50: round(w.p50, 3),
          p99: round(w.p99, 3),
          lag_p99: round(lag.percentile(99) / 1e6, 1),
          lag_max: round(lag.max / 1e6, 1),
          rss_mb: Math.round(mem.rss / 1048576),
          heap_mb: Math.round(mem.heapUsed / 1048576),
          fds: readdirSync('/proc/self/fd').length,
          objects: index.size,
        });
        lag.reset();
        if (w.window % 2 === 1) poll();
      }
    });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`loadgen exit ${code}`))));
  });
  clearInterval(scrapeTimer);
  lag.disable();
  await running;
  follower.stop();
  await app.close();
  await correlator.close();
  await store.close();
  feedServer.close();
  rmSync(dir, { recursive: true, force: true });

  const out = join(here, 'out');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'soak.json'), JSON.stringify({ scale, minutes, feedRows, rate, windows, polls }, null, 1));
  const cols = Object.keys(windows[0] ?? {}) as (keyof Window)[];
  process.stderr.write(
    `\nsoak windows (${WINDOW_SECS} s each)\n| ${cols.join(' | ')} |\n|${cols.map(() => '---').join('|')}|\n${windows.map((w) => `| ${cols.map((c) => String(w[c])).join(' | ')} |`).join('\n')}\n`,
  );
  return summarise(windows, polls, { feedRows, valueSet, rate, minutes });
}

/** Windows that answered below 95% of the offered rate: their p99 measures the generator's queue. */
function overloaded(ws: Window[], rate: number): string {
  const slow = ws.filter((w) => w.ok < 0.95 * rate * WINDOW_SECS).length;
  return slow
    ? `OVERLOADED: ${slow} of ${ws.length} windows answered below 95% of the offered rate (p99 there is queueing); `
    : '';
}

function summarise(
  windows: Window[],
  polls: Poll[],
  o: { feedRows: number; valueSet: number; rate: number; minutes: number },
): Row[] {
  const load = `load avg ${loadavg()
    .map((x) => round(x, 2))
    .join(' ')}`;
  // steady: from the first window in which the index already held what it holds at the end
  const final = windows.at(-1)?.objects;
  const full = windows.findIndex((w) => w.objects === final);
  const steady = full < 0 ? [] : windows.slice(full);
  const rows: Row[] = [];
  for (const inPoll of [true, false]) {
    const ws = windows.filter((w) => w.poll === inPoll);
    if (ws.length === 0) continue;
    rows.push({
      workload: 'soak',
      what: `lookups at ${o.rate}/s, ${inPoll ? 'windows with a poll' : 'windows without a poll'} (${ws.length} of ${WINDOW_SECS} s)`,
      items: ws.reduce((s, w) => s + w.ok, 0),
      p50_ms: round(median(ws.map((w) => w.p50)), 3),
      p99_ms: round(Math.max(...ws.map((w) => w.p99)), 3),
      target: 'lookup p99 ≤ 10 ms in every window; lag p99 ≤ 20 ms',
      ratio: `worst window p99 ${round(Math.max(...ws.map((w) => w.p99)), 2)} ms, median window p99 ${round(median(ws.map((w) => w.p99)), 2)} ms`,
      note: `${overloaded(ws, o.rate)}errors ${ws.reduce((s, w) => s + w.errors, 0)}; event-loop lag p99 per window median ${median(ws.map((w) => w.lag_p99))} ms, worst ${Math.max(...ws.map((w) => w.lag_p99))} ms (max ${Math.max(...ws.map((w) => w.lag_max))} ms); ${load}`,
    });
  }
  if (steady.length >= 2) {
    const q = Math.max(1, Math.floor(steady.length / 4));
    const first = mean(steady.slice(0, q).map((w) => w.rss_mb));
    const last = mean(steady.slice(-q).map((w) => w.rss_mb));
    const rss = steady.map((w) => w.rss_mb);
    const fds = steady.map((w) => w.fds);
    rows.push({
      workload: 'soak',
      what: `RSS drift over ${steady.length} windows after the store stopped growing (${final} indicators in the index)`,
      items: steady.length,
      target: 'RSS drift ≤ 5%; no FD growth',
      ratio: `RSS ${round(((last - first) / first) * 100, 1)}% (first quarter ${Math.round(first)} MB → last quarter ${Math.round(last)} MB)`,
      note: `RSS min ${Math.min(...rss)} MB, max ${Math.max(...rss)} MB; heap ${steady[0]?.heap_mb} → ${steady.at(-1)?.heap_mb} MB; FDs ${fds[0]} → ${fds.at(-1)} (max ${Math.max(...fds)})`,
    });
  } else {
    rows.push({
      workload: 'soak',
      what: 'RSS drift after the store stopped growing',
      note: `NOT MEASURED: the index stopped growing only ${steady.length} window(s) before the end; run longer (--minutes)`,
    });
  }
  const done = polls.filter((p) => p.end !== undefined);
  rows.push({
    workload: 'soak',
    what: `${o.feedRows}-row feed polled every ${POLL_SECS} s for ${o.minutes} min`,
    items: done.length,
    seconds: round(mean(done.map((p) => p.secs))),
    note: `mean poll duration in seconds; created ${done.map((p) => p.created).join('/')}; updated ${done.map((p) => p.updated).join('/')}`,
  });
  return rows;
}
