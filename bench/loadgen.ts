/**
 * HTTP load generator, run as its own process so it does not share the server's event loop.
 *   open loop:   loadgen.ts open  URL RATE SECONDS [BODYFILE]
 *   closed loop: loadgen.ts closed URL CONNECTIONS SECONDS [BODYFILE]
 * Latency is measured from the intended send time (open loop), so queueing is not hidden
 * (coordinated omission). Prints one JSON line: { sent, ok, errors, seconds, rps, p50, p99, p999 } (ms).
 */
import { Pool } from 'undici';
import { readFileSync } from 'node:fs';
import { percentile } from './lib.js';

const [mode, url, param, secondsArg, bodyFile] = process.argv.slice(2);
const seconds = Number(secondsArg);
const body = bodyFile ? readFileSync(bodyFile, 'utf8') : undefined;
const u = new URL(url);
const paths = u.searchParams.has('values_file') ? readFileSync(u.searchParams.get('values_file')!, 'utf8').split('\n').filter(Boolean) : [u.pathname + u.search];
const connections = mode === 'open' ? 64 : Number(param);
const pool = new Pool(u.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
const maxSamples = 2_000_000;
const lat = new Float64Array(maxSamples);
let n = 0;
let ok = 0;
let errors = 0;
let sent = 0;

async function one(i: number, intended: number): Promise<void> {
  try {
    const r = await pool.request({
      path: body ? u.pathname : paths[i % paths.length],
      method: body ? 'POST' : 'GET',
      headers: body ? { 'content-type': 'application/json' } : {},
      body,
    });
    await r.body.dump();
    if (r.statusCode === 200) ok++;
    else errors++;
  } catch {
    errors++;
  }
  if (n < maxSamples) lat[n++] = performance.now() - intended;
}

const t0 = performance.now();
const end = t0 + seconds * 1000;
if (mode === 'open') {
  const rate = Number(param);
  const inflight = new Set<Promise<void>>();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (now >= end) return resolve();
      const due = Math.floor(((now - t0) / 1000) * rate);
      while (sent < due) {
        const intended = t0 + (sent / rate) * 1000;
        const p = one(sent++, intended);
        inflight.add(p);
        p.finally(() => inflight.delete(p));
      }
      setImmediate(tick);
    };
    tick();
  });
  await Promise.all(inflight);
} else {
  const workers = Array.from({ length: connections }, async () => {
    while (performance.now() < end) {
      const i = sent++;
      await one(i, performance.now());
    }
  });
  await Promise.all(workers);
}
const secs = (performance.now() - t0) / 1000;
const sorted = lat.subarray(0, n).sort();
process.stdout.write(`${JSON.stringify({ sent, ok, errors, seconds: secs, rps: ok / secs, p50: percentile(sorted, 50), p99: percentile(sorted, 99), p999: percentile(sorted, 99.9) })}\n`);
await pool.close();
