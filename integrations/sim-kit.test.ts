import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultQueue, logBounded, simControl } from './sim-kit.js';

test('FaultQueue: defaults, first match, times used up, clear keeps the array', () => {
  const q = new FaultQueue<{ target?: string; status?: number; times?: number }>({ target: 'any' });
  const held = q.pending;
  q.inject({ target: 'kv', status: 503, times: 2 });
  q.inject({ status: 500 });
  assert.deepEqual(q.pending[1], { times: 1, target: 'any', status: 500 });
  assert.equal(
    q.take((f) => f.target === 'hec'),
    undefined,
  );
  assert.equal(q.take((f) => f.target === 'kv')?.status, 503);
  assert.equal(q.size, 2);
  assert.equal(q.take((f) => f.target === 'kv')?.status, 503);
  assert.equal(q.size, 1);
  assert.equal(q.take()?.status, 500);
  assert.equal(q.take(), undefined);
  q.inject({ status: 429 });
  q.clear();
  assert.equal(q.size, 0);
  assert.equal(held, q.pending);
});

test('logBounded keeps the newest entries', () => {
  const log: number[] = [];
  for (let i = 0; i < 7; i++) logBounded(log, i, 3);
  assert.deepEqual(log, [4, 5, 6]);
});

test('simControl: state, requests, quota, faults, reset, unknown', () => {
  let cleared = 0;
  const c = {
    requests: [{ path: '/x' }],
    clearFaults: () => void cleared++,
    state: () => ({ n: 1 }),
    inject: (body: string) => ({ status: body === '{}' ? 200 : 400, value: body }),
  };
  assert.deepEqual(simControl('GET', '/__sim/state', '', c), { status: 200, value: { n: 1 } });
  assert.deepEqual(simControl('GET', '/__sim/requests', '', c), { status: 200, value: [{ path: '/x' }] });
  assert.equal(simControl('GET', '/__sim/quota', '', c).status, 404, 'no quota endpoint without a quota');
  assert.equal(simControl('POST', '/__sim/faults', 'x', c).status, 400);
  assert.deepEqual(simControl('POST', '/__sim/reset-faults', '', c), { status: 200, value: { ok: true } });
  assert.equal(cleared, 1);
  assert.deepEqual(simControl('GET', '/__sim/nope', '', { ...c, notFound: { e: 1 } }), {
    status: 404,
    value: { e: 1 },
  });
  assert.deepEqual(simControl('GET', '/__sim/reset-faults', '', c).value, { error: 'unknown simulator endpoint' });
});

test('FaultQueue: a fault injected first pre-empts a standing one, which applies again afterwards', () => {
  const q = new FaultQueue<{ times?: number; status?: number; delayMs?: number }>();
  q.inject({ delayMs: 50, times: 1000 });
  q.inject({ status: 503 }, true);
  assert.equal(q.take()?.status, 503);
  assert.equal(q.take()?.delayMs, 50);
  assert.equal(q.size, 1);
});
