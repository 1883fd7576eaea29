/**
 * HTTP load generator, run as its own process so it does not share the server's event loop.
 *   open loop:   loadgen.ts open  URL RATE SECONDS [BODYFILE]
 *   closed loop: loadgen.ts closed URL CONNECTIONS SECONDS [BODYFILE]
 * STIXGATE_LOADGEN_HEADERS (JSON) adds headers to every request, e.g. an Authorization key.
 * A redis://127.0.0.1:PORT/?values_file=F URL sends Redis GETs of the keys listed in F instead (the
 * lookup-latency peer), over the same number of connections with one command in flight each.
 * Each run starts with a warm-up (STIXGATE_LOADGEN_WARMUP_SECS, default 1 s) at the same rate or
 * concurrency whose samples are discarded: connections get opened and both sides get JIT-compiled
 * before anything is measured.
 * Open loop: requests are due in bursts of RATE/1000 every millisecond (a timer grid; a spinning
 * setImmediate loop would burn a core the server needs on a small box); each latency is measured
 * from its request's due time, so queueing anywhere (server or generator) is not hidden
 * (coordinated omission).
 * STIXGATE_LOADGEN_WINDOW_SECS=W also prints, every W seconds of the measured phase, one JSON line
 * { window, ok, errors, p50, p99, p999, lateMs } for the answers of that window alone (the soak's
 * per-window figures), after a line {"measuring":true} when the measured phase starts; the samples
 * are then kept per window, so the final line covers the last one.
 * Prints one JSON line: { sent, ok, errors, seconds, rps, p50, p99, p999 (ms), cpu, warmup, lateMs }
 * where cpu is the generator's own CPU use over the measured phase (1 = one full core) and lateMs
 * the p99 of how late the generator issued requests versus their intended time (a generator that
 * cannot keep up shows here, not as server latency); warmup counts the warm-up answers.
 */
import { Pool } from 'undici';
import { readFileSync } from 'node:fs';
import { percentile } from './lib.js';
import { RespPool } from './redis.js';
import { must } from '../test/helpers/must.js';

const [mode, url, param, secondsArg, bodyFile] = process.argv.slice(2);
const seconds = Number(secondsArg);
const warmupSecs = Number(process.env.STIXGATE_LOADGEN_WARMUP_SECS ?? 1);
const body = bodyFile ? readFileSync(bodyFile, 'utf8') : undefined;
const u = new URL(must(url, 'url'));
const paths = u.searchParams.has('values_file')
  ? readFileSync(must(u.searchParams.get('values_file'), "u.searchParams.get('values_file')"), 'utf8')
      .split('\n')
      .filter(Boolean)
  : [u.pathname + u.search];
const connections = mode === 'open' ? 64 : Number(param);
const redis = u.protocol === 'redis:' ? await RespPool.open(Number(u.port), connections) : undefined;
const pool = new Pool(redis ? 'http://127.0.0.1' : u.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
const maxSamples = 2_000_000;
const lat = new Float64Array(maxSamples);
const late = new Float64Array(maxSamples);
/** Open-loop arrival grid: timers, not a spinning setImmediate loop (which costs a whole core). */
const TICK_MS = 1;
/** Extra request headers (an API key) as JSON in STIXGATE_LOADGEN_HEADERS. */
const headers: Record<string, string> = {
  ...(body ? { 'content-type': 'application/json' } : {}),
  ...(JSON.parse(process.env.STIXGATE_LOADGEN_HEADERS || '{}') as Record<string, string>),
};

interface Phase {
  record: boolean;
  sent: number;
  ok: number;
  errors: number;
  n: number;
  nLate: number;
  /** Answers of any status, recorded or not. */
  done: number;
}

async function one(ph: Phase, i: number, intended: number): Promise<void> {
  let good = false;
  try {
    if (redis) {
      await redis.command(['GET', must(paths[i % paths.length], 'paths[i % paths.length]')]);
      good = true;
    } else {
      const r = await pool.request({
        path: body ? u.pathname : must(paths[i % paths.length], 'paths[i % paths.length]'),
        method: body ? 'POST' : 'GET',
        headers,
        body,
      });
      await r.body.dump();
      good = r.statusCode === 200;
    }
  } catch {
    good = false;
  }
  ph.done++;
  if (!ph.record) return;
  if (good) ph.ok++;
  else ph.errors++;
  if (ph.n < maxSamples) lat[ph.n++] = performance.now() - intended;
}

async function runOpen(ph: Phase, rate: number, secs: number): Promise<void> {
  const t0 = performance.now();
  const total = Math.floor(secs * rate);
  // arrivals come in bursts on a TICK_MS grid: request k is due at t0 + floor(k / perTick) * TICK_MS
  const perTick = (rate * TICK_MS) / 1000;
  const dueAt = (k: number): number => t0 + Math.floor(k / perTick) * TICK_MS;
  const inflight = new Set<Promise<void>>();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (ph.sent < total && dueAt(ph.sent) <= now) {
        const intended = dueAt(ph.sent);
        if (ph.record && ph.nLate < maxSamples) late[ph.nLate++] = now - intended;
        const p = one(ph, ph.sent, intended);
        ph.sent++;
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      if (ph.sent >= total) {
        resolve();
        return;
      }
      setTimeout(tick, Math.max(0, dueAt(ph.sent) - performance.now()));
    };
    tick();
  });
  await Promise.all(inflight);
}

async function runClosed(ph: Phase, conns: number, secs: number): Promise<void> {
  const end = performance.now() + secs * 1000;
  const workers = Array.from({ length: conns }, async () => {
    while (performance.now() < end) await one(ph, ph.sent++, performance.now());
  });
  await Promise.all(workers);
}

const run = (ph: Phase, secs: number): Promise<void> =>
  mode === 'open' ? runOpen(ph, Number(param), secs) : runClosed(ph, connections, secs);

const warm: Phase = { record: false, sent: 0, ok: 0, errors: 0, n: 0, nLate: 0, done: 0 };
if (warmupSecs > 0) await run(warm, warmupSecs);
const ph: Phase = { record: true, sent: 0, ok: 0, errors: 0, n: 0, nLate: 0, done: 0 };
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const windowSecs = Number(process.env.STIXGATE_LOADGEN_WINDOW_SECS ?? 0);
let window = 0;
let ok0 = 0;
let errors0 = 0;
/** Prints the answers since the previous window as one line and starts the next window. */
const flushWindow = (): void => {
  const w = lat.slice(0, ph.n).sort();
  const l = late.slice(0, ph.nLate).sort();
  process.stdout.write(
    `${JSON.stringify({ window: window++, ok: ph.ok - ok0, errors: ph.errors - errors0, p50: percentile(w, 50), p99: percentile(w, 99), p999: percentile(w, 99.9), lateMs: percentile(l, 99) })}\n`,
  );
  ok0 = ph.ok;
  errors0 = ph.errors;
  ph.n = 0;
  ph.nLate = 0;
};
let windowTimer: NodeJS.Timeout | undefined;
if (windowSecs > 0) {
  process.stdout.write('{"measuring":true}\n');
  windowTimer = setInterval(flushWindow, windowSecs * 1000);
}
await run(ph, seconds);
clearInterval(windowTimer);
// the last window, cut short by the end of the run (or ending with it)
if (windowSecs > 0 && ph.ok + ph.errors > ok0 + errors0) flushWindow();
const secs = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const sorted = lat.subarray(0, ph.n).sort();
const lateSorted = late.subarray(0, ph.nLate).sort();
process.stdout.write(
  `${JSON.stringify({
    sent: ph.sent,
    ok: ph.ok,
    errors: ph.errors,
    seconds: secs,
    rps: ph.ok / secs,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    cpu: Math.round(((cpu.user + cpu.system) / 1e6 / secs) * 100) / 100,
    warmup: warm.done,
    lateMs: ph.nLate ? Math.round(percentile(lateSorted, 99) * 1000) / 1000 : 0,
  })}\n`,
);
await pool.close();
redis?.close();
