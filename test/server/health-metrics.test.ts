import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T0 } from '../lookup/fixtures.js';
import { KEYS, bearer, setup } from './helpers.js';

test('healthz is 200; readyz is 503 with Retry-After until ready and while the store is down', async () => {
  const { app, store, setReady } = await setup({}, { ready: false });
  assert.deepEqual((await app.inject('/healthz')).json(), { status: 'ok' });
  const notReady = await app.inject('/readyz');
  assert.equal(notReady.statusCode, 503);
  assert.equal(notReady.headers['retry-after'], '5');
  assert.deepEqual(notReady.json(), {
    error: { code: 'STIXGATE_ERR_API_UNAVAILABLE', message: 'not ready: starting' },
  });
  // lookups are refused the same way, never answered "not found" from an index that is not current
  for (const req of [
    { method: 'GET' as const, url: '/api/v1/lookup?value=198.51.100.7' },
    { method: 'POST' as const, url: '/api/v1/lookup', payload: { values: ['198.51.100.7'] } },
  ]) {
    const r = await app.inject({ ...req, headers: bearer(KEYS.reader) });
    assert.equal(r.statusCode, 503, req.method);
    assert.equal(r.headers['retry-after'], '5');
    assert.equal(r.json().error.code, 'STIXGATE_ERR_API_UNAVAILABLE');
  }
  setReady(true);
  assert.equal(
    (await app.inject({ method: 'GET', url: '/api/v1/lookup?value=198.51.100.7', headers: bearer(KEYS.reader) }))
      .statusCode,
    200,
  );
  const ready = await app.inject('/readyz');
  assert.equal(ready.statusCode, 200);
  assert.deepEqual(ready.json(), { status: 'ready' });
  store.pingError = new Error('disk gone');
  const down = await app.inject('/readyz');
  assert.equal(down.statusCode, 503);
  assert.equal(down.json().error.message, 'not ready: store unavailable');
});

test('/metrics (metrics_public): lookup, index and store metrics; no indicator value or key appears (FAULTS A13)', async () => {
  const { app, store, setNow } = await setup({ metrics_public: true });
  await app.inject({
    method: 'POST',
    url: '/api/v1/lookup',
    headers: bearer(KEYS.reader),
    payload: { values: ['198.51.100.7', 'evil.example', '192.0.2.1', ''] },
  });
  await app.inject({ method: 'GET', url: '/api/v1/lookup?value=198.51.100.7', headers: bearer(KEYS.reader) });
  const res = await app.inject('/metrics');
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const text = res.body;
  assert.match(text, /^stixgate_lookup_values_total\{result="hit"\} 3$/m);
  assert.match(text, /^stixgate_lookup_values_total\{result="miss"\} 1$/m);
  assert.match(text, /^stixgate_lookup_values_total\{result="invalid"\} 1$/m);
  assert.match(text, /^stixgate_lookup_duration_seconds_count\{kind="single"\} 1$/m);
  assert.match(text, /^stixgate_lookup_duration_seconds_count\{kind="batch"\} 1$/m);
  assert.match(text, /^stixgate_lookup_index_entries\{kind="indicators"\} 5$/m);
  assert.match(text, /^stixgate_lookup_index_entries\{kind="ipv4_cidr"\} 1$/m);
  assert.match(text, /^stixgate_lookup_index_seq 5$/m);
  assert.match(text, /^stixgate_store_objects\{type="indicator"\} 5$/m);
  for (const secret of [
    ...Object.values(KEYS),
    '198.51.100.7',
    'evil.example',
    '192.0.2.1',
    'red.example',
    'indicator--',
  ]) {
    assert.equal(text.includes(secret), false, secret);
  }
  // store stats are refreshed at most every 10 s
  assert.equal(store.statsCalls, 1);
  await app.inject('/metrics');
  assert.equal(store.statsCalls, 1);
  setNow(T0 + 10_000);
  await app.inject('/metrics');
  assert.equal(store.statsCalls, 2);
});
