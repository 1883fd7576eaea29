import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Chunker, LADDER } from './chunker.js';
import { createQradarSink } from './sink.js';
import { config, ictx, ips, records, runContext, startSim } from './test-kit.js';
import { must } from '../../test/helpers/must.js';

/** Request time of n values: fixed cost, per-value cost, and a per-value cost growing with n. */
const cost = (requestMs: number, perUs: number, growthNs: number) => (n: number) =>
  requestMs + (n * perUs) / 1000 + (growthNs * n * (n - 1)) / 2 / 1e6;

function climb(c: Chunker, time: (n: number) => number, values: number): number[] {
  const sizes: number[] = [];
  for (let left = values; left > 0; ) {
    const n = Math.min(c.size(), left);
    sizes.push(n);
    c.report(n, time(n));
    left -= n;
  }
  return sizes;
}

test('fixed chunking keeps the configured size', () => {
  const c = new Chunker(750, false);
  assert.equal(c.size(), 750);
  c.report(750, 1);
  assert.equal(c.size(), 750);
});

test('adaptive chunking settles on the fastest ladder size, whichever side of the start it lies', () => {
  for (const [growthNs, best] of [
    [25, 2000],
    [400, 500],
    [1, 10_000],
    [4000, 200],
  ] as const) {
    const time = cost(50, 5, growthNs);
    const rates = LADDER.map((n) => n / time(n));
    assert.equal(LADDER[rates.indexOf(Math.max(...rates))], best, `model best for growth ${growthNs}`);
    const c = new Chunker(1000, true);
    const sizes = climb(c, time, 30_000);
    assert.equal(c.size(), best, `growth ${growthNs}: ${sizes.join(',')}`);
    // after settling every full chunk is the best size
    const settled = sizes.findIndex((_, i) => sizes.slice(i, -1).every((n) => n === best));
    assert.ok(settled >= 0 && settled <= 6, `settled after ${settled} chunks: ${sizes.join(',')}`);
  }
});

test('adaptive chunking never goes above its maximum', () => {
  const c = new Chunker(1000, true, 2000);
  climb(c, cost(50, 0, 0), 50_000);
  assert.equal(c.size(), 2000);
});

test('W9 shape: against a console whose per-element cost grows with the load, the sink converges to the best chunk within 3 batches', async (t) => {
  // 50 ms + 5 µs/value + 25 ns·n(n−1)/2: best of the ladder is 2,000 (≈18k values/s; 10,000 would give 0.7k/s)
  // on a virtual clock that only the console's modelled latency advances: the load of the machine
  // running the test cannot change what the climb measures
  const clock = { ms: 0 };
  const { sim, base } = await startSim(t, {
    apiVersion: '12.0',
    bulkLatency: { requestMs: 50, perElementUs: 5, growthNsPerElement: 25 },
    virtualLatency: (ms) => {
      clock.ms += ms;
    },
  });
  const ctx = runContext(t);
  const sink = createQradarSink(config(base, { adaptive_chunking: true }), ictx, { clock: () => clock.ms });
  assert.equal(sink.limits.maxBatch, 10_000);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  for (let b = 0; b < 3; b++) await sink.upsert(records(ips(10_000, b * 10_000)), ctx);
  assert.equal(sink.chunking().size, 2000, JSON.stringify(sink.chunking().measured));
  assert.equal(sim.values('stixgate - IPv4').length, 30_000);
  const loads = sim.requests.filter((r) => r.path.includes('/bulk_load/')).map((r) => r.bytes);
  assert.ok(loads.length >= 8, `${loads.length} loads`);
});
