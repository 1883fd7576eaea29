import { type TestContext, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { SortedSpill } from '../../src/delivery/reconcile-spill.js';
import { prng } from '../../bench/lib.js';
import type { RemoteEntry, Sink, SinkReconciler, SinkRecord } from '../../src/delivery/types.js';
import { reconcileBench } from '../helpers/reconcile-kit.js';
import { commonConfig, indicator, NOW } from '../helpers/sink-kit.js';
import { must } from '../helpers/must.js';
import { loopbackHttp } from '../helpers/loopback-http.js';

/** The reconcile engine on its own: the external sort, the bounded structures, several indicators holding one value. */

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-reconcile-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the external sort gives every item in key order with at most a chunk in memory, and removes its run files', async (t) => {
  const dir = tmp(t);
  const rnd = prng(7);
  const keys = Array.from({ length: 25_000 }, () => Math.floor(rnd() * 1e9).toString(36));
  const spill = new SortedSpill<{ k: string; i: number }>(join(dir, 'runs'), (x) => x.k, 1000);
  for (const [i, k] of keys.entries()) await spill.add({ k, i });
  const out: string[] = [];
  for await (const x of spill.sorted()) out.push(x.k);
  assert.deepEqual(out, [...keys].sort());
  assert.equal(spill.stats.maxBuffered, 1000);
  assert.equal(spill.stats.runs, 25);
  assert.equal(readdirSync(join(dir, 'runs')).length, 1);
  spill.close();
  assert.deepEqual(readdirSync(join(dir, 'runs')), []);
  // under a chunk nothing touches the disk
  const small = new SortedSpill<{ k: string }>(join(dir, 'small'), (x) => x.k, 10);
  for (const k of ['b', 'a', 'c']) await small.add({ k });
  const got: string[] = [];
  for await (const x of small.sorted()) got.push(x.k);
  assert.deepEqual(got, ['a', 'b', 'c']);
  assert.equal(existsSync(join(dir, 'small')), false);
});

/** A sink whose product is an in-memory list (the engine's view only). */
function memorySink(held: () => RemoteEntry[], removed: RemoteEntry[], written: SinkRecord[]): Sink {
  const reconciler: SinkReconciler = {
    describe: () => 'memory',
    async *read() {
      const all = held();
      for (let i = 0; i < all.length; i += 1000) yield all.slice(i, i + 1000);
    },
    expected: (r) => ({ key: r.key, digest: String(r.fields.name), label: r.observable.value }),
    removeExtra: async (entries) => void removed.push(...entries),
  };
  return {
    limits: { maxBatch: 100, concurrency: 1 },
    upsert: async (rs) => {
      written.push(...rs);
      return rs.map(() => ({ status: 'ok' as const }));
    },
    remove: async (rs) => rs.map(() => ({ status: 'ok' as const })),
    reconciler,
  };
}

/** The reconcile bench of `sink`; a sink config that excludes the label `benign`; an HTTP client it never uses. */
function memoryBench(t: TestContext, sink: Sink) {
  const http = loopbackHttp('x', {
    headersTimeoutMs: 1000,
    bodyTimeoutMs: 1000,
    totalTimeoutMs: 1000,
    maxBytes: 1024,
    retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 },
  });
  t.after(() => http.close());
  const config = commonConfig('memory', {
    filters: { types: [], min_score: 0, labels: [], exclude_labels: ['benign'], sources: [] },
    retry: { max_attempts: 2, base_delay_secs: 0.001, max_delay_secs: 0.01 },
  });
  return reconcileBench(t, { sink, config, mapping: { name: 'name' }, http, now: NOW });
}

test('60,000 entries read back in chunks of 2,000: the structures held stay within a chunk (counted), the plan is exact', async (t) => {
  const removed: RemoteEntry[] = [];
  const written: SinkRecord[] = [];
  const n = 60_000;
  const entries = Array.from(
    { length: n },
    (_, i): RemoteEntry => ({
      key: createHash('sha1').update(`x${i}`).digest('hex'),
      digest: 'x',
      ref: i,
      label: `x${i}`,
    }),
  );
  const b = await memoryBench(
    t,
    memorySink(() => entries, removed, written),
  );
  await b.put(['198.51.100.1', '198.51.100.2'].map((v) => indicator(v)));
  const spills: { remote: { maxBuffered: number; runs: number; items: number } }[] = [];
  const r = await b.reconcile({ chunk: 2000, listLimit: 5, onSpill: (s) => spills.push(s) });
  assert.equal(r.read, n);
  assert.deepEqual(r.counts, { missing: 2, stale: 0, extra: n, foreign: 0, in_sync: 0 });
  assert.equal(r.items.extra.length, 5);
  assert.equal(must(spills[0], 'spills[0]').remote.maxBuffered, 2000);
  assert.equal(must(spills[0], 'spills[0]').remote.runs, 30);
  assert.equal(removed.length, n, "every extra entry removed, in batches of the sink's limit");
  assert.deepEqual(written.map((w) => w.observable.value).sort(), ['198.51.100.1', '198.51.100.2']);
});

test('a value several indicators hold: current when the product holds any of their records; otherwise the newest is written; one the filters exclude is not expected', async (t) => {
  const removed: RemoteEntry[] = [];
  const written: SinkRecord[] = [];
  let held: RemoteEntry[] = [];
  const b = await memoryBench(
    t,
    memorySink(() => held, removed, written),
  );
  const older = indicator('198.51.100.7', 80, {
    id: 'indicator--00000000-0000-4000-8000-000000000001',
    name: 'older',
    modified: new Date(NOW - 3_600_000).toISOString(),
  } as never);
  const newer = indicator('198.51.100.7', 80, {
    id: 'indicator--00000000-0000-4000-8000-000000000002',
    name: 'newer',
    modified: new Date(NOW - 60_000).toISOString(),
  } as never);
  const excluded = indicator('198.51.100.8', 80, { name: 'excluded', labels: ['benign'] } as never);
  await b.put([older, newer, excluded]);
  const key = must((await b.plan()).items.missing[0], '(await b.plan()).items.missing[0]').key;
  assert.deepEqual(
    (await b.plan()).counts,
    { missing: 1, stale: 0, extra: 0, foreign: 0, in_sync: 0 },
    'one value, once; the one the filters exclude is not expected',
  );
  held = [{ key, digest: 'older', ref: 0, label: 'v' }];
  assert.equal((await b.plan()).counts.in_sync, 1, "the older indicator's record is current too");
  held = [{ key, digest: 'edited', ref: 0, label: 'v' }];
  const r = await b.reconcile();
  assert.equal(r.counts.stale, 1);
  assert.deepEqual(
    written.map((w) => w.fields.name),
    ['newer'],
  );
});
