import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T0, change, indicator, uuidId } from '../lookup/fixtures.js';
import { KEYS, bearer, setup } from './helpers.js';

test('GET one value: hit with details, refanged input, miss, invalid', async () => {
  const { app } = await setup();
  const hit = await app.inject({
    method: 'GET',
    url: '/api/v1/lookup?value=198.51.100[.]7',
    headers: bearer(KEYS.reader),
  });
  assert.equal(hit.statusCode, 200);
  const body = hit.json();
  assert.equal(body.value, '198.51.100.7');
  assert.equal(body.type, 'ipv4-addr');
  assert.equal(body.matched, true);
  assert.equal(body.indicators.length, 1);
  assert.equal(body.indicators[0].id, uuidId(1));
  assert.equal(body.indicators[0].score, 80);
  assert.equal(body.indicators[0].tlp, 'green');
  assert.deepEqual(body.indicators[0].sources, ['feed_a']);

  const cidr = await app.inject({
    method: 'GET',
    url: '/api/v1/lookup?value=203.0.113.200',
    headers: { 'x-api-key': KEYS.reader },
  });
  assert.deepEqual(
    cidr.json().indicators.map((i: { match: string; matched_value: string }) => [i.match, i.matched_value]),
    [['cidr', '203.0.113.0/24']],
  );

  const miss = await app.inject({ method: 'GET', url: '/api/v1/lookup?value=192.0.2.1', headers: bearer(KEYS.reader) });
  assert.deepEqual(miss.json(), { value: '192.0.2.1', type: 'ipv4-addr', matched: false, indicators: [] });

  const bad = await app.inject({
    method: 'GET',
    url: `/api/v1/lookup?value=${encodeURIComponent('not a value!!')}`,
    headers: bearer(KEYS.reader),
  });
  assert.equal(bad.statusCode, 200);
  assert.equal(bad.json().matched, false);
  assert.equal(typeof bad.json().invalid, 'string');
});

test('FAULTS A10: GET with repeated value params answers results in order; over the cap is a 400 naming it', async () => {
  const { app } = await setup({ max_batch_size: 3 });
  const ok = await app.inject({
    method: 'GET',
    url: '/api/v1/lookup?value=evil.example&value=192.0.2.9',
    headers: bearer(KEYS.reader),
  });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(
    ok.json().results.map((r: { value: string; matched: boolean }) => [r.value, r.matched]),
    [
      ['evil.example', true],
      ['192.0.2.9', false],
    ],
  );
  const over = await app.inject({
    method: 'GET',
    url: '/api/v1/lookup?value=a.example&value=b.example&value=c.example&value=d.example',
    headers: bearer(KEYS.reader),
  });
  assert.equal(over.statusCode, 400);
  assert.deepEqual(over.json(), {
    error: {
      code: 'STIXGATE_ERR_API_BAD_REQUEST',
      message: 'too many values: 4; at most 3 per request (server.max_batch_size)',
    },
  });
  const none = await app.inject({ method: 'GET', url: '/api/v1/lookup', headers: bearer(KEYS.reader) });
  assert.equal(none.statusCode, 400);
  assert.equal(none.json().error.code, 'STIXGATE_ERR_API_BAD_REQUEST');
});

test('POST batch: per-value results in input order, invalid values answered per value', async () => {
  const { app, metrics } = await setup();
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/lookup',
    headers: bearer(KEYS.reader),
    payload: { values: ['hxxps://a.evil[.]example/x', '', '198.51.100.7', '192.0.2.1'] },
  });
  assert.equal(res.statusCode, 200);
  const r = res.json().results;
  assert.equal(r.length, 4);
  assert.deepEqual(
    [r[0].matched, r[0].indicators[0].match, r[0].indicators[0].matched_value],
    [true, 'domain', 'evil.example'],
  );
  assert.equal(r[1].matched, false);
  assert.equal(typeof r[1].invalid, 'string');
  assert.equal(r[2].indicators[0].id, uuidId(1));
  assert.equal(r[3].matched, false);
  const values = await metrics.lookupValues.get();
  assert.deepEqual(Object.fromEntries(values.values.map((v) => [v.labels.result, v.value])), {
    hit: 2,
    miss: 1,
    invalid: 1,
  });
  const dur = await metrics.lookupDuration.get();
  assert.equal(
    dur.values.find((v) => v.metricName === 'stixgate_lookup_duration_seconds_count' && v.labels.kind === 'batch')
      ?.value,
    1,
  );
});

test('FAULTS A10: POST batch over max_batch_size is a 400 naming the cap; schema violations are 400', async () => {
  const { app } = await setup({ max_batch_size: 5 });
  const values = Array.from({ length: 6 }, (_, i) => `192.0.2.${i}`);
  const over = await app.inject({
    method: 'POST',
    url: '/api/v1/lookup',
    headers: bearer(KEYS.reader),
    payload: { values },
  });
  assert.equal(over.statusCode, 400);
  assert.match(over.json().error.message, /at most 5 per request \(server\.max_batch_size\)/);
  const long = await app.inject({
    method: 'POST',
    url: '/api/v1/lookup',
    headers: bearer(KEYS.reader),
    payload: { values: ['a'.repeat(2049)] },
  });
  assert.equal(long.statusCode, 400);
  assert.equal(long.json().error.code, 'STIXGATE_ERR_API_BAD_REQUEST');
  const extra = await app.inject({
    method: 'POST',
    url: '/api/v1/lookup',
    headers: bearer(KEYS.reader),
    payload: { values: [], debug: true },
  });
  assert.equal(extra.statusCode, 400);
  const notArray = await app.inject({
    method: 'POST',
    url: '/api/v1/lookup',
    headers: bearer(KEYS.reader),
    payload: { values: { a: 1 } },
  });
  assert.equal(notArray.statusCode, 400);
});

test('TLP filtering per key', async () => {
  const { app } = await setup();
  const ask = async (key: string, value: string) =>
    (
      await app.inject({
        method: 'GET',
        url: `/api/v1/lookup?value=${encodeURIComponent(value)}`,
        headers: bearer(key),
      })
    ).json().matched;
  assert.deepEqual(
    await Promise.all([
      ask(KEYS.clear, '198.51.100.7'),
      ask(KEYS.reader, '198.51.100.7'),
      ask(KEYS.red, '198.51.100.7'),
    ]),
    [false, true, true],
  );
  assert.deepEqual(
    await Promise.all([
      ask(KEYS.clear, 'evil.example'),
      ask(KEYS.reader, 'evil.example'),
      ask(KEYS.red, 'evil.example'),
    ]),
    [false, true, true],
  );
  assert.deepEqual(
    await Promise.all([
      ask(KEYS.clear, 'http://red.example/a'),
      ask(KEYS.reader, 'http://red.example/a'),
      ask(KEYS.red, 'http://red.example/a'),
    ]),
    [false, false, true],
  );
  assert.deepEqual(await Promise.all([ask(KEYS.clear, '203.0.113.5'), ask(KEYS.reader, '203.0.113.5')]), [true, true]);
});

test('anonymous lookups see TLP:CLEAR only when enabled', async () => {
  const off = await setup();
  const r1 = await off.app.inject({ method: 'GET', url: '/api/v1/lookup?value=203.0.113.5' });
  assert.equal(r1.statusCode, 401);
  const on = await setup({ anonymous_lookup: true });
  const clear = await on.app.inject({ method: 'GET', url: '/api/v1/lookup?value=203.0.113.5' });
  assert.equal(clear.json().matched, true);
  const green = await on.app.inject({ method: 'GET', url: '/api/v1/lookup?value=198.51.100.7' });
  assert.equal(green.json().matched, false);
  // a wrong key is still a 401, not a fallback to anonymous
  const wrong = await on.app.inject({
    method: 'GET',
    url: '/api/v1/lookup?value=203.0.113.5',
    headers: bearer('nope'),
  });
  assert.equal(wrong.statusCode, 401);
});

test('expiry by clock and revocation through the change log', async () => {
  const { app, index, setNow } = await setup();
  const ask = async (value: string) =>
    (await app.inject({ method: 'GET', url: `/api/v1/lookup?value=${value}`, headers: bearer(KEYS.reader) })).json()
      .matched;
  assert.equal(await ask('gone.example'), true);
  setNow(T0 + 1000);
  assert.equal(await ask('gone.example'), false);
  index.apply(change(indicator({ n: 1, pattern: "[ipv4-addr:value = '198.51.100.7']", revoked: true }), 'revoke'));
  assert.equal(await ask('198.51.100.7'), false);
});
