import { test } from 'node:test';
import assert from 'node:assert/strict';
import Bottleneck from 'bottleneck';
import { sinkCursorName } from '../../src/delivery/runner.js';
import type { SinkRecord } from '../../src/delivery/types.js';
import { config, ind, setup } from './sink-run-kit.js';

/**
 * What a crash during a push may repeat: the records sent but not yet covered by the committed
 * cursor. The runner keeps them within `concurrency` batches and within `max_in_flight_records`
 * (default 2,000), even while one batch is slow and the others are acknowledged around it.
 */

type Kit = Awaited<ReturnType<typeof setup>>;

const turn = () => new Promise<void>((r) => setImmediate(r));

/**
 * Wraps the fake sink so that each request records how many records are unsafe at that moment
 * (sent earlier or now, and after the committed cursor). The first request is held until no other
 * request has started for 50 turns of the event loop (the runner can make no progress without it).
 */
function watch(kit: Kit) {
  const sent: SinkRecord[][] = [];
  let worst = { batches: 0, records: 0 };
  let release!: () => void;
  const first = new Promise<void>((r) => (release = r));
  const upsert = kit.sink.upsert.bind(kit.sink);
  kit.sink.upsert = async (records) => {
    sent.push(records);
    const cursor = Number((await kit.store.getCursor(sinkCursorName('fake'))) ?? 0);
    const unsafe = sent.filter((b) => b.some((r) => r.seq > cursor));
    const n = { batches: unsafe.length, records: unsafe.reduce((a, b) => a + b.length, 0) };
    if (n.records > worst.records) worst = n;
    if (sent.length === 1) {
      void (async () => {
        for (let seen = sent.length, still = 0; still < 50; still++) {
          await turn();
          if (sent.length !== seen) [seen, still] = [sent.length, 0];
        }
        release();
      })();
      await first;
    }
    return upsert(records);
  };
  return { sent, worst: () => worst };
}

test('a slow batch holds back new ones: at most `concurrency` batches are ever past the committed cursor', async (t) => {
  const kit = await setup(t);
  kit.sink.limits = { maxBatch: 10, concurrency: 3 };
  await kit.put(Array.from({ length: 300 }, (_, i) => ind(`10.40.${i >> 8}.${i & 255}`)));
  const w = watch(kit);
  const sum = await kit.run({ limiter: new Bottleneck({ maxConcurrent: 8 }) });
  assert.equal(sum.upserted, 300);
  assert.equal(kit.sink.held.size, 300);
  assert.ok(w.worst().batches <= 3, `${w.worst().batches} batches past the cursor at once (concurrency 3)`);
  assert.equal(await kit.store.getCursor(sinkCursorName('fake')), String(await kit.store.head()));
});

test('default in-flight budget: batches × concurrency never exceed 2,000 records past the cursor', async (t) => {
  const kit = await setup(t);
  // a vendor allowing large batches and many requests at once
  kit.sink.limits = { maxBatch: 1500, concurrency: 8 };
  await kit.put(Array.from({ length: 6000 }, (_, i) => ind(`10.41.${i >> 8}.${i & 255}`)));
  const w = watch(kit);
  const sum = await kit.run({ limiter: new Bottleneck({ maxConcurrent: 8 }) });
  assert.equal(sum.upserted, 6000);
  assert.ok(w.worst().records <= 2000, `${w.worst().records} records past the cursor at once`);
  assert.ok(w.sent.every((b) => b.length <= 1500));
});

test('max_in_flight_records caps the batch size too', async (t) => {
  const kit = await setup(t);
  kit.sink.limits = { maxBatch: 5000, concurrency: 4 };
  await kit.put(Array.from({ length: 3000 }, (_, i) => ind(`10.42.${i >> 8}.${i & 255}`)));
  const small = watch(kit);
  await kit.run({ config: config({ max_in_flight_records: 500 }), limiter: new Bottleneck({ maxConcurrent: 8 }) });
  assert.ok(
    small.sent.every((b) => b.length <= 500),
    'no batch above the budget',
  );
  assert.ok(small.worst().records <= 500, `${small.worst().records} records past the cursor at once (budget 500)`);
  assert.equal(kit.sink.held.size, 3000);
});
