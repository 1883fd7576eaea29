import { request } from 'undici';
import { XsoarSimulator } from './simulator.js';
import { xsoarSink } from './index.js';
import { feedIndicator } from './sink.js';
import { loadXsoarTable } from './mapping.js';
import { config, ictx, ips, records } from './test-kit.js';
import { createHttpClient } from '../../src/http/client.js';
import { silentLogger } from '../../src/telemetry/logger.js';

/**
 * Measures the simulator's ceiling (README "Measured ceiling"): `/indicators/feed/json` requests of
 * 2,000 new indicators each (the sink's own bodies, serialised beforehand), sent one after another;
 * then the same records pushed by the sink (which serialises in the same process as the simulator).
 * Run: npx tsx integrations/xsoar/ceiling.ts [indicators=100000]
 */
const total = Number(process.argv[2] ?? 100_000);
const BATCH = 2000;

async function raw(): Promise<number> {
  const sim = new XsoarSimulator();
  const { base } = await sim.start();
  // the bodies the sink sends for the same records, serialised before the clock starts
  const table = loadXsoarTable(undefined, ictx);
  const inds = records(ips(total)).map((r) => feedIndicator(r, table, config(base), Date.now()));
  const bodies: string[] = [];
  for (let k = 0; k < total; k += BATCH)
    bodies.push(JSON.stringify({ indicators: inds.slice(k, k + BATCH), bypassExclusionList: false }));
  const t0 = performance.now();
  for (const body of bodies) {
    const r = await request(`${base}/indicators/feed/json`, {
      method: 'POST',
      headers: { authorization: 'sim-key', 'content-type': 'application/json' },
      body,
    });
    await r.body.dump();
    if (r.statusCode !== 201) throw new Error(`status ${r.statusCode}`);
  }
  const rate = total / ((performance.now() - t0) / 1000);
  await sim.close();
  return rate;
}

async function viaSink(): Promise<number> {
  const sim = new XsoarSimulator();
  const { base } = await sim.start();
  const http = createHttpClient(
    {
      headersTimeoutMs: 30_000,
      bodyTimeoutMs: 30_000,
      totalTimeoutMs: 60_000,
      maxBytes: 64 << 20,
      maxRedirects: 0,
      allowPrivate: true,
      allowInsecure: true,
      verifyTls: true,
      retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 },
    },
    { component: 'ceiling' },
  );
  const sink = xsoarSink.create(config(base), ictx);
  const recs = records(ips(total));
  const ctx = { id: 'ceiling', logger: silentLogger(), http, signal: new AbortController().signal, now: Date.now() };
  const t0 = performance.now();
  for (let k = 0; k < recs.length; k += BATCH) await sink.upsert(recs.slice(k, k + BATCH), ctx);
  const rate = total / ((performance.now() - t0) / 1000);
  if (sim.indicators().length !== total) throw new Error('not all indicators arrived');
  await http.close();
  await sim.close();
  return rate;
}

const r = await raw();
const s = await viaSink();
console.log(
  `feed/json, ${BATCH} per request, sequential: ${Math.round(r)} indicators/s; through the sink: ${Math.round(s)} indicators/s (${Math.round((100 * s) / r)}% of the ceiling)`,
);
