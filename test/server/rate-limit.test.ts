import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter, take } from '../../src/server/rate-limit.js';
import { T0 } from '../lookup/fixtures.js';
import { KEYS, bearer, setup } from './helpers.js';

const LOOKUP = '/api/v1/lookup?value=198.51.100.7';
const OFF_ADDR = { requests_per_sec: 1000, burst: 100_000 };

test('token bucket: a full bucket allows `burst` at once, then one request per 1/rate seconds; the wait is exact', () => {
  const rate = { requests_per_sec: 2, burst: 3 };
  const b = { tokens: 3, at: 0 };
  assert.deepEqual([take(b, rate, 0), take(b, rate, 0), take(b, rate, 0)], [0, 0, 0]);
  assert.equal(take(b, rate, 0), 500);
  assert.equal(take(b, rate, 499), 1);
  assert.equal(take(b, rate, 500), 0);
  // idle for an hour refills to burst, not beyond
  assert.deepEqual(
    [0, 0, 0, 1].map(() => take(b, rate, 3_600_000)),
    [0, 0, 0, 500],
  );
  // a clock that steps back refills nothing
  assert.equal(take(b, rate, 1000), 500);
});

test('FAULTS A9: many requests per millisecond on a millisecond clock: exactly burst + rate × time are admitted (float refills never admit a request without taking its token)', () => {
  let now = 1_796_645_779_000;
  const limiter = new RateLimiter(
    {
      enabled: true,
      per_key: { requests_per_sec: 50, burst: 100 },
      per_address: { requests_per_sec: 1, burst: 1 },
      max_addresses: 100,
    },
    new Map(),
    () => now,
  );
  let admitted = 0;
  for (let ms = 0; ms < 3000; ms++, now++) for (let k = 0; k < 3; k++) if (limiter.takeKey('siem') === 0) admitted++;
  assert.equal(admitted, 100 + 50 * 3 - 1);
});

test('FAULTS A9: a flood from one key gets 429 + Retry-After in the JSON error format; other keys are unaffected; the key recovers with time', async () => {
  const { app, lines, setNow } = await setup({
    rate_limit: { per_key: { requests_per_sec: 5, burst: 10 }, per_address: OFF_ADDR },
  });
  const codes: number[] = [];
  for (let i = 0; i < 25; i++) codes.push((await app.inject({ url: LOOKUP, headers: bearer(KEYS.reader) })).statusCode);
  assert.deepEqual(codes, [...Array(10).fill(200), ...Array(15).fill(429)]);
  const refused = await app.inject({ url: LOOKUP, headers: bearer(KEYS.reader) });
  assert.equal(refused.statusCode, 429);
  assert.equal(refused.headers['retry-after'], '1');
  assert.deepEqual(refused.json(), {
    error: { code: 'STIXGATE_ERR_API_RATE_LIMITED', message: 'too many requests from this API key; retry after 1 s' },
  });
  // another key from the same address still has its own full bucket
  for (let i = 0; i < 10; i++)
    assert.equal((await app.inject({ url: LOOKUP, headers: bearer(KEYS.clear) })).statusCode, 200);
  // 1 s later 5 tokens are back for the flooding key, not more
  setNow(T0 + 1000);
  const after: number[] = [];
  for (let i = 0; i < 6; i++) after.push((await app.inject({ url: LOOKUP, headers: bearer(KEYS.reader) })).statusCode);
  assert.deepEqual(after, [200, 200, 200, 200, 200, 429]);
  // refusals are audited with the key id
  const audited = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'api call' && l.status === 429);
  assert.equal(audited.length, 17);
  assert.ok(audited.every((l) => l.key_id === 'reader'));
  // and counted for operators, by code only
  const metrics = await app.inject({ url: '/metrics', headers: bearer(KEYS.metrics) });
  assert.match(metrics.body, /^stixgate_api_refused_total\{code="rate_limited"\} 17$/m);
});

test('FAULTS A9: a key may carry its own bucket in place of the per-key default', async () => {
  const { app } = await setup({
    rate_limit: { per_key: { requests_per_sec: 1, burst: 2 }, per_address: OFF_ADDR },
    api_keys: {
      big: {
        hash: (await import('../../src/server/index.js')).hashApiKey(KEYS.reader),
        scopes: ['lookup'],
        rate_limit: { requests_per_sec: 1, burst: 6 },
      },
    },
  });
  const codes: number[] = [];
  for (let i = 0; i < 7; i++) codes.push((await app.inject({ url: LOOKUP, headers: bearer(KEYS.reader) })).statusCode);
  assert.deepEqual(codes, [200, 200, 200, 200, 200, 200, 429]);
});

test('FAULTS A9: per-address bucket: unauthenticated floods are refused before authentication; addresses are independent', async () => {
  const { app, setNow } = await setup({ rate_limit: { per_address: { requests_per_sec: 2, burst: 4 } } });
  const from = (remoteAddress: string, headers: Record<string, string> = {}) =>
    app.inject({ url: LOOKUP, remoteAddress, headers });
  const codes: number[] = [];
  for (let i = 0; i < 6; i++) codes.push((await from('192.0.2.1', bearer(`guessed-key-${i}`))).statusCode);
  assert.deepEqual(codes, [401, 401, 401, 401, 429, 429]);
  const r = await from('192.0.2.1', bearer(KEYS.reader));
  assert.equal(r.statusCode, 429, 'a valid key does not lift the address limit');
  assert.equal(r.json().error.message, 'too many requests from this address; retry after 1 s');
  assert.equal((await from('192.0.2.2', bearer(KEYS.reader))).statusCode, 200);
  // health probes and unknown routes count too
  assert.equal((await app.inject({ url: '/healthz', remoteAddress: '192.0.2.1' })).statusCode, 429);
  assert.equal((await app.inject({ url: '/nothing', remoteAddress: '192.0.2.1' })).statusCode, 429);
  setNow(T0 + 500);
  assert.equal((await from('192.0.2.1', bearer(KEYS.reader))).statusCode, 200);
  assert.equal((await from('192.0.2.1', bearer(KEYS.reader))).statusCode, 429);
});

test('FAULTS A9: the per-address table is bounded: 5,000 addresses tracked in a table of 100', () => {
  let now = 0;
  const limiter = new RateLimiter(
    {
      enabled: true,
      per_key: { requests_per_sec: 1, burst: 1 },
      per_address: { requests_per_sec: 1, burst: 1 },
      max_addresses: 100,
    },
    new Map(),
    () => now,
  );
  for (let i = 0; i < 5000; i++)
    assert.equal(limiter.takeAddress(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`), 0);
  assert.equal(limiter.trackedAddresses, 100);
  // the most recent addresses are still limited
  assert.equal(limiter.takeAddress('10.0.19.135'), 1000);
  now = 1000;
  assert.equal(limiter.takeAddress('10.0.19.135'), 0);
});

test('FAULTS A14: X-Forwarded-For from an untrusted peer is ignored, so rotating it does not reset the address bucket', async () => {
  const { app } = await setup({ rate_limit: { per_address: { requests_per_sec: 1, burst: 3 } } });
  const codes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await app.inject({
      url: LOOKUP,
      remoteAddress: '203.0.113.50',
      headers: { ...bearer(KEYS.reader), 'x-forwarded-for': `198.18.0.${i}`, 'x-forwarded-host': 'evil.example' },
    });
    codes.push(r.statusCode);
  }
  assert.deepEqual(codes, [200, 200, 200, 429, 429]);
});

test('FAULTS A14: an IPv6 client is limited by its /64, so rotating addresses inside it gains nothing; an IPv4-mapped address is its IPv4', async () => {
  const { app } = await setup({ rate_limit: { per_address: { requests_per_sec: 1, burst: 2 } } });
  const from = (remoteAddress: string) => app.inject({ url: LOOKUP, remoteAddress, headers: bearer(KEYS.reader) });
  const codes: number[] = [];
  for (const a of ['2001:db8:1:2::1', '2001:db8:1:2:ffff:1:2:3', '2001:db8:1:2::abcd'])
    codes.push((await from(a)).statusCode);
  assert.deepEqual(codes, [200, 200, 429]);
  assert.equal((await from('2001:db8:1:3::1')).statusCode, 200, 'the next /64 is another client');
  assert.deepEqual(
    [
      (await from('192.0.2.9')).statusCode,
      (await from('::ffff:192.0.2.9')).statusCode,
      (await from('192.0.2.9')).statusCode,
    ],
    [200, 200, 429],
  );
});

test('FAULTS A14: X-Forwarded-For is honoured from a configured trusted proxy only, and key networks see the forwarded client', async () => {
  const { hashApiKey } = await import('../../src/server/index.js');
  const { app } = await setup({
    trusted_proxies: ['10.1.0.0/16'],
    rate_limit: { per_address: { requests_per_sec: 1, burst: 1 }, per_key: OFF_ADDR },
    api_keys: { soc: { hash: hashApiKey(KEYS.reader), scopes: ['lookup'], allowed_networks: ['192.0.2.0/24'] } },
  });
  const via = (remoteAddress: string, client: string) =>
    app.inject({ url: LOOKUP, remoteAddress, headers: { ...bearer(KEYS.reader), 'x-forwarded-for': client } });
  // through the proxy: each forwarded client has its own bucket, and the key's network is checked on it
  assert.equal((await via('10.1.2.3', '192.0.2.10')).statusCode, 200);
  assert.equal((await via('10.1.2.3', '192.0.2.11')).statusCode, 200);
  assert.equal((await via('10.1.2.3', '192.0.2.10')).statusCode, 429);
  assert.equal((await via('10.1.2.3', '198.51.100.1')).statusCode, 401, 'key used from outside its allowed networks');
  // a peer that is not a trusted proxy cannot claim an allowed address
  assert.equal((await via('203.0.113.7', '192.0.2.12')).statusCode, 401);
});

test('a key network written as an IPv4-mapped range admits the IPv4 clients it stands for, as an IPv4 range does', async () => {
  const { hashApiKey } = await import('../../src/server/index.js');
  const { app } = await setup({
    rate_limit: { per_address: OFF_ADDR, per_key: OFF_ADDR },
    api_keys: {
      soc: { hash: hashApiKey(KEYS.reader), scopes: ['lookup'], allowed_networks: ['::ffff:192.0.2.0/120'] },
    },
  });
  const from = (remoteAddress: string) => app.inject({ url: LOOKUP, remoteAddress, headers: bearer(KEYS.reader) });
  assert.equal((await from('192.0.2.10')).statusCode, 200);
  assert.equal((await from('::ffff:192.0.2.11')).statusCode, 200);
  assert.equal((await from('192.0.3.1')).statusCode, 401);
});
