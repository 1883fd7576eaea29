import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sinkRefreshName } from '../../src/delivery/runner.js';
import { NOW, config, ind, iso, setup } from './sink-run-kit.js';

/**
 * Remote expiry refresh (issue #13): a remote system that ages values out (QRadar's time to live,
 * XSOAR's expiration policy) must be told again, before that, about values still valid in the
 * store, although no source changed them. A bounded pass per run re-asserts them, one cycle over
 * the store every `refresh_days`, on a fake clock here.
 */

const DAY = 86_400_000;

test('a still-valid value no source re-lists is re-asserted every refresh_days, in bounded slices; expired ones are not', async (t) => {
  const { sink, run, put, metrics } = await setup(t);
  sink.remoteTtlMs = 10 * DAY;
  const values = Array.from({ length: 25 }, (_, i) => `10.50.0.${i + 1}`);
  await put(values.map((v) => ind(v)));
  await put([ind('10.50.1.1', { valid_until: iso(NOW + 7 * DAY) })]);
  let clock = NOW;
  // refresh_days defaults to half the remote TTL (5 days); at most 10 indicators per run here
  const go = () => run({ now: () => clock, config: config({ refresh_max_per_run: 10 }) });
  await go();
  assert.equal(sink.calls.length, 9, 'the first push: 26 values in batches of 3');
  const pushed = () => sink.calls.filter((c) => c.op === 'upsert').flatMap((c) => c.keys);

  // four days on: nothing is due, nothing is sent
  clock = NOW + 4 * DAY;
  let sum = await go();
  assert.equal(sink.calls.length, 9);
  assert.equal(sum.refreshed, 0);

  // five days: a cycle starts; each run re-asserts one slice of at most 10 indicators
  clock = NOW + 5 * DAY;
  const before = pushed().length;
  const slices: number[] = [];
  for (let i = 0; i < 3; i++) {
    sum = await go();
    slices.push(sum.refreshed ?? 0);
  }
  assert.deepEqual(slices, [10, 10, 6], 'three runs cover the 26 indicators');
  assert.deepEqual(pushed().slice(before).sort(), [...values, '10.50.1.1'].sort(), 'every active value once');
  assert.equal(
    await metrics.sinkRefreshed.get().then((m) => m.values.find((v) => v.labels.sink === 'fake')?.value),
    26,
  );

  // the cycle is done: nothing more until the next one is due, five days after this one started
  clock = NOW + 9 * DAY;
  assert.equal((await go()).refreshed, 0);
  // meanwhile 10.50.1.1 expired (valid_until passed): the next cycle leaves it out
  clock = NOW + 10 * DAY;
  const next = pushed().length;
  for (let i = 0; i < 3; i++) await go();
  const again = pushed().slice(next);
  assert.equal(again.length, 25);
  assert.ok(!again.includes('10.50.1.1'), 'an expired value is not re-asserted');
});

test('no remote TTL and no refresh_days: no refresh pass; refresh_days set: a cycle over the store', async (t) => {
  const { sink, run, put, store } = await setup(t);
  await put(['10.51.0.1', '10.51.0.2'].map((v) => ind(v)));
  await run();
  const calls = sink.calls.length;
  assert.equal((await run({ now: () => NOW + 400 * DAY })).refreshed, 0);
  assert.equal(sink.calls.length, calls);
  assert.equal(await store.getCursor(sinkRefreshName('fake')), undefined);
  const sum = await run({ now: () => NOW + 401 * DAY, config: config({ refresh_days: 30 }) });
  assert.equal(sum.refreshed, 0, 'the first cycle is due refresh_days after the sink is first seen with it');
  assert.equal((await run({ now: () => NOW + 431 * DAY, config: config({ refresh_days: 30 }) })).refreshed, 2);
});
