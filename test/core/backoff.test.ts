import { test } from 'node:test';
import assert from 'node:assert/strict';
import { abortableSleep, backoffDelay, parseRetryAfter } from '../../src/core/backoff.js';

test('backoffDelay: full jitter within min(max, base*2^(n-1))', () => {
  assert.equal(
    backoffDelay(1, 100, 10_000, () => 0.999999),
    99,
  );
  assert.equal(
    backoffDelay(2, 100, 10_000, () => 0.5),
    100,
  );
  assert.equal(
    backoffDelay(4, 100, 10_000, () => 0.5),
    400,
  );
  assert.equal(
    backoffDelay(20, 100, 10_000, () => 0.5),
    5000,
  );
  assert.equal(
    backoffDelay(3, 100, 10_000, () => 0),
    0,
  );
  assert.equal(
    backoffDelay(1000, 100, 10_000, () => 0.999999),
    9999,
  );
  // spread: 1000 draws with Math.random stay within [0, cap) and are not all equal
  const draws = Array.from({ length: 1000 }, () => backoffDelay(3, 100, 10_000));
  assert.ok(draws.every((d) => d >= 0 && d < 400));
  assert.ok(new Set(draws).size > 100);
});

test('parseRetryAfter: delta-seconds and HTTP-dates', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('Sun, 01 Mar 2026 12:02:00 GMT', now), 120_000);
  assert.equal(parseRetryAfter('Sunday, 01-Mar-26 12:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Sun Mar  1 12:00:10 2026', now), 10_000);
  assert.equal(parseRetryAfter('Sun, 01 Mar 2026 11:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('-5', now), undefined);
  assert.equal(parseRetryAfter('1.5', now), undefined);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter('', now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
});

test('abortableSleep rejects with the abort reason; resolves after its delay otherwise (fake clock)', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const ac = new AbortController();
  let settled = false;
  const p = abortableSleep(10_000, ac.signal).finally(() => (settled = true));
  t.mock.timers.tick(9_999);
  await Promise.resolve();
  assert.equal(settled, false, 'still sleeping 1 ms before the end');
  ac.abort(new Error('stop'));
  await assert.rejects(p, /stop/);
  await assert.rejects(abortableSleep(10, ac.signal), /stop/, 'an aborted signal rejects at once');
  let woke = false;
  const q = abortableSleep(5).then(() => (woke = true));
  t.mock.timers.tick(4);
  await Promise.resolve();
  assert.equal(woke, false);
  t.mock.timers.tick(1);
  await q;
  assert.equal(woke, true);
});
