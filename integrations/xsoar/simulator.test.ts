import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advancedHash } from './sim-auth.js';
import { ADV_KEY, KEY, startSim } from './test-kit.js';
import { must } from '../../test/helpers/must.js';

type Json = any;

async function call(
  base: string,
  path: string,
  body: unknown,
  headers: Record<string, string | undefined> = { Authorization: KEY },
): Promise<{ status: number; body: Json; headers: Headers }> {
  const r = await fetch(base + path, {
    method: 'POST',
    headers: Object.fromEntries(
      Object.entries({ 'Content-Type': 'application/json', ...headers }).filter(
        (e): e is [string, string] => e[1] !== undefined,
      ),
    ),
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined, headers: r.headers };
}

const feed = (values: string[], extra: Record<string, unknown> = {}) => ({
  indicators: values.map((value) => ({ value, type: 'IP', score: 3, sourceBrand: 'b1', ...extra })),
});
const advanced = (key: string, id: string, ts = String(Date.now()), nonce = 'N'.repeat(64)) => ({
  'x-xdr-auth-id': id,
  'x-xdr-nonce': nonce,
  'x-xdr-timestamp': ts,
  Authorization: advancedHash(key, nonce, ts),
});

test('XSOAR 6 auth: the raw API key; a bad or revoked key gets the documented 403 CSRF body', async (t) => {
  const { sim, base } = await startSim(t);
  assert.equal((await call(base, '/indicators/search', { query: '', size: 1 })).status, 200);
  const expected = {
    id: 'forbidden',
    status: 403,
    title: 'Forbidden',
    detail: 'Issue with CSRF code',
    error: 'http: named cookie not present',
    encrypted: false,
    multires: null,
  };
  for (const h of [{ Authorization: 'wrong' }, {}, { Authorization: `Bearer ${KEY}` }, { Authorization: ADV_KEY }]) {
    const r = await call(base, '/indicators/search', { size: 1 }, h);
    assert.equal(r.status, 403, JSON.stringify(h));
    assert.deepEqual(r.body, expected);
  }
  sim.revoke(KEY);
  assert.equal((await call(base, '/indicators/search', { size: 1 })).status, 403);
  const about = await fetch(`${base}/xsoar/about`, { headers: { Authorization: KEY, 'x-xdr-auth-id': '1' } });
  assert.equal(about.status, 401, 'revoked on XSOAR 8 paths too');
});

test('XSOAR 8 paths (/xsoar and /xsoar/public/v1): x-xdr-auth-id with a standard key; 401 otherwise', async (t) => {
  const { sim, base } = await startSim(t);
  for (const prefix of ['/xsoar', '/xsoar/public/v1']) {
    const ok = await call(base, `${prefix}/indicators/feed/json`, feed([`${prefix === '/xsoar' ? 1 : 2}.0.0.1`]), {
      Authorization: KEY,
      'x-xdr-auth-id': '1',
    });
    assert.equal(ok.status, 201, prefix);
    for (const h of [
      { Authorization: KEY },
      { Authorization: KEY, 'x-xdr-auth-id': '2' },
      { Authorization: 'x', 'x-xdr-auth-id': '1' },
      { Authorization: KEY, 'x-xdr-auth-id': '9' },
    ]) {
      const r = await call(base, `${prefix}/indicators/search`, { size: 1 }, h);
      assert.equal(r.status, 401, JSON.stringify(h));
      assert.equal(r.body.id, 'unauthorized');
      assert.equal(r.body.status, 401);
    }
  }
  assert.deepEqual(
    sim.indicators().map((i) => i.value),
    ['1.0.0.1', '2.0.0.1'],
  );
  assert.deepEqual(
    sim.requests.filter((q) => q.status === 201).map((q) => [q.path, q.api, q.scheme]),
    [
      ['/xsoar/indicators/feed/json', 8, 'standard'],
      ['/xsoar/public/v1/indicators/feed/json', 8, 'standard'],
    ],
  );
  const about = await fetch(`${base}/xsoar/about`, { headers: { Authorization: KEY, 'x-xdr-auth-id': '1' } });
  assert.equal(((await about.json()) as Json).demistoVersion, '8.6.0');
});

test('XSOAR 8 advanced key: SHA-256 of key + nonce + timestamp verified; stale timestamps, bad hashes and short nonces refused', async (t) => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  const { sim, base } = await startSim(t, { now: () => now, rejectReusedNonce: true });
  const ok = await call(base, '/xsoar/public/v1/indicators/search', { size: 1 }, advanced(ADV_KEY, '2', String(now)));
  assert.equal(ok.status, 200);
  assert.equal(must(sim.requests[0], 'sim.requests[0]').scheme, 'advanced');
  const cases: [string, Record<string, string>][] = [
    ['replayed nonce', advanced(ADV_KEY, '2', String(now))],
    ['stale timestamp', advanced(ADV_KEY, '2', String(now - 6 * 60_000), 'a'.repeat(64))],
    ['wrong key', advanced('other', '2', String(now), 'b'.repeat(64))],
    ['short nonce', advanced(ADV_KEY, '2', String(now), 'c'.repeat(10))],
    ['seconds timestamp', advanced(ADV_KEY, '2', String(now / 1000), 'd'.repeat(64))],
    ['plain key to an advanced id', { Authorization: ADV_KEY, 'x-xdr-auth-id': '2' }],
  ];
  for (const [what, h] of cases) {
    const r = await call(base, '/xsoar/indicators/search', { size: 1 }, h);
    assert.equal(r.status, 401, what);
    assert.equal(r.body.detail, 'Public API request unauthorized', what);
  }
  assert.equal(
    (
      await call(
        base,
        '/xsoar/indicators/search',
        { size: 1 },
        advanced(ADV_KEY, '2', String(now + 4 * 60_000), 'e'.repeat(64)),
      )
    ).status,
    200,
    'within the window',
  );
});

test('tenants: /acc_<name>/ has its own indicators; an unknown account is 404', async (t) => {
  const { sim, base } = await startSim(t);
  assert.equal((await call(base, '/acc_acme/indicators/feed/json', feed(['9.9.9.9']))).status, 201);
  assert.equal(sim.indicators('acme').length, 1);
  assert.equal(sim.indicators().length, 0);
  const r = await call(base, '/acc_nobody/indicators/search', { size: 1 });
  assert.equal(r.status, 404);
  assert.equal(r.body.id, 'not_found');
});

test('feed/json: unique by value (a re-feed updates the same indicator), per-brand scores, 2,000 limit and bad items refuse the whole request', async (t) => {
  const { sim, base } = await startSim(t);
  assert.equal((await call(base, '/indicators/feed/json', feed(['1.1.1.1', '2.2.2.2']))).status, 201);
  assert.equal((await call(base, '/indicators/feed/json', feed(['1.1.1.1'], { score: 1 }))).status, 201);
  assert.equal(
    (await call(base, '/indicators/feed/json', feed(['1.1.1.1'], { score: 2, sourceBrand: 'b2' }))).status,
    201,
  );
  const i = must(sim.indicator('1.1.1.1'), "sim.indicator('1.1.1.1')");
  assert.equal(sim.indicators().length, 2);
  assert.equal(i.version, 3);
  assert.equal(i.score, 2, 'the highest score across source brands');
  assert.deepEqual(i.sourceBrands, ['b1', 'b2']);
  const big = await call(
    base,
    '/indicators/feed/json',
    feed(Array.from({ length: 2001 }, (_, k) => `3.0.${k >> 8}.${k & 255}`)),
  );
  assert.equal(big.status, 400);
  assert.match(big.body.detail, /Too many indicators in one request: 2001 \(max 2000\)/);
  const bad = await call(base, '/indicators/feed/json', {
    indicators: [
      { value: '4.4.4.4', type: 'IP' },
      { value: 'x', type: 'NoSuchType' },
      { value: '5.5.5.5', type: 'IP', score: 7 },
    ],
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.detail, 'indicators[1]: unknown indicator type "NoSuchType"');
  assert.equal(sim.indicators().length, 2, 'nothing of a refused request is stored');
  const notJson = await call(base, '/indicators/feed/json', '{oops');
  assert.equal(notJson.status, 400);
  assert.equal(notJson.body.detail, 'Request body is not well-formed. It must be JSON.');
});

test('search: size 0 returns nothing, size is capped at 1000, page and searchAfter paging, query subset, bad query is 400', async (t) => {
  const { base } = await startSim(t);
  const values = Array.from({ length: 1200 }, (_, k) => `10.0.${k >> 8}.${k & 255}`);
  assert.equal((await call(base, '/indicators/feed/json', feed(values.slice(0, 600)))).status, 201);
  assert.equal(
    (
      await call(
        base,
        '/indicators/feed/json',
        feed(values.slice(600), { score: 1, type: 'IP', fields: { tags: ['x'] } }),
      )
    ).status,
    201,
  );
  const none = await call(base, '/indicators/search', { query: 'type:IP' });
  assert.deepEqual([none.body.iocObjects.length, none.body.total], [0, 1200]);
  const capped = await call(base, '/indicators/search', { query: 'type:IP', size: 5000 });
  assert.equal(capped.body.iocObjects.length, 1000);
  const p1 = await call(base, '/indicators/search', { query: 'type:IP', size: 500, page: 2 });
  assert.deepEqual([p1.body.iocObjects.length, p1.body.iocObjects[0].value], [200, values[1000]]);
  const first = await call(base, '/indicators/search', { query: 'score:>=3', size: 400 });
  const after = await call(base, '/indicators/search', {
    query: 'score:>=3',
    size: 400,
    searchAfter: first.body.iocObjects[399].sortValues,
  });
  assert.deepEqual(
    [first.body.total, after.body.iocObjects.length, after.body.iocObjects[0].value],
    [600, 200, values[400]],
  );
  const q = await call(base, '/indicators/search', {
    query: `value:("${values[0]}" "${values[700]}") AND -score:3 OR tags:y`,
    size: 10,
  });
  assert.deepEqual(
    q.body.iocObjects.map((i: Json) => i.value),
    [values[700]],
  );
  const glob = await call(base, '/indicators/search', { query: 'value:10.0.2.* tags:x', size: 1000 });
  assert.equal(glob.body.total, 168, '10.0.2.x from the 600th value on carry the tag');
  const badQ = await call(base, '/indicators/search', { query: 'value:("a"', size: 1 });
  assert.equal(badQ.status, 400);
  assert.match(badQ.body.detail, /missing "\)"/);
});

test('edit: the current version or -1 is accepted, a stale version is a 409 DB version conflict; create merges or conflicts', async (t) => {
  const { sim, base } = await startSim(t);
  const c = await call(base, '/indicator/create', {
    indicator: { value: 'evil.example', indicator_type: 'Domain', score: 3, manualScore: true },
    seenNow: true,
  });
  assert.equal(c.status, 200);
  assert.deepEqual([c.body.version, c.body.score, c.body.manualScore], [1, 3, true]);
  const e = await call(base, '/indicator/edit', { ...c.body, score: 2 });
  assert.deepEqual([e.status, e.body.version, e.body.score], [200, 2, 2]);
  const stale = await call(base, '/indicator/edit', { ...c.body, score: 1 });
  assert.equal(stale.status, 409);
  assert.deepEqual(Object.keys(stale.body), ['id', 'status', 'title', 'detail', 'error', 'encrypted', 'multires']);
  assert.match(stale.body.error, /DB version conflict error/);
  const force = await call(base, '/indicator/edit', { ...c.body, version: -1, score: 1 });
  assert.deepEqual([force.status, force.body.score, force.body.version], [200, 1, 3]);
  const again = await call(base, '/indicator/create', {
    indicator: { value: 'evil.example', indicator_type: 'Domain', comment: 'x' },
  });
  assert.deepEqual([again.status, again.body.id, again.body.comment], [200, c.body.id, 'x']);
  assert.equal(sim.indicators().length, 1);
  const missing = await call(base, '/indicator/edit', { id: '999', version: 1 });
  assert.equal(missing.status, 404);

  const { base: b2 } = await startSim(t, { createExisting: 'conflict', versionConflictStatus: 400 });
  const body = { indicator: { value: 'x.example', indicator_type: 'Domain' } };
  const first = await call(b2, '/indicator/create', body);
  assert.equal((await call(b2, '/indicator/create', body)).status, 409);
  assert.equal((await call(b2, '/indicator/edit', { ...first.body, version: 0 })).status, 400);
});

test('batchDelete: doNotWhitelist:true only deletes; without it the values go on the exclusion list and later feeds skip them', async (t) => {
  const { sim, base } = await startSim(t);
  await call(base, '/indicators/feed/json', feed(['1.1.1.1', '2.2.2.2', '3.3.3.3']));
  const [a, b] = sim.indicators();
  const d1 = await call(base, '/indicators/batchDelete', {
    ids: [must(a, 'a').id, 'nope'],
    all: false,
    filter: {},
    doNotWhitelist: true,
    reason: 'r',
    reputations: null,
  });
  assert.deepEqual(d1.body, { updatedIds: [must(a, 'a').id], notUpdated: 1 });
  assert.deepEqual(sim.exclusions(), []);
  const d2 = await call(base, '/indicators/batchDelete', { ids: [must(b, 'b').id], reason: 'fp' });
  assert.deepEqual(d2.body, { updatedIds: [must(b, 'b').id], notUpdated: 0 });
  assert.deepEqual(
    sim.exclusions().map((x) => [x.value, x.reason]),
    [['2.2.2.2', 'fp']],
  );
  await call(base, '/indicators/feed/json', feed(['1.1.1.1', '2.2.2.2']));
  assert.deepEqual(
    sim
      .indicators()
      .map((i) => i.value)
      .sort(),
    ['1.1.1.1', '3.3.3.3'],
    'the excluded value was not created',
  );
  await call(base, '/indicators/feed/json', { ...feed(['2.2.2.2']), bypassExclusionList: true });
  assert.ok(sim.indicator('2.2.2.2'));
  const all = await call(base, '/indicators/batchDelete', {
    all: true,
    filter: { query: 'value:1.1.1.1' },
    doNotWhitelist: true,
  });
  assert.equal(all.body.updatedIds.length, 1);
});

test('expiration: interval in minutes, never, the type default; the status flips once the time passed', async (t) => {
  let now = Date.parse('2026-03-01T12:00:00Z');
  const { sim, base } = await startSim(t, { now: () => now });
  await call(base, '/indicators/feed/json', {
    indicators: [
      { value: '1.1.1.1', type: 'IP', expirationPolicy: 'interval', expirationInterval: 60 },
      { value: '2.2.2.2', type: 'IP', expirationPolicy: 'never' },
      { value: '3.3.3.3', type: 'IP' },
    ],
  });
  assert.deepEqual(
    sim.indicators().map((i) => [i.expiration, i.expirationStatus]),
    [
      ['2026-03-01T13:00:00.000Z', 'active'],
      ['0001-01-01T00:00:00Z', 'active'],
      ['2026-03-08T12:00:00.000Z', 'active'],
    ],
  );
  now += 61 * 60_000;
  const r = await call(base, '/indicators/search', { query: 'expirationStatus:expired', size: 10 });
  assert.deepEqual(
    r.body.iocObjects.map((i: Json) => i.value),
    ['1.1.1.1'],
    'expired indicators stay searchable',
  );
  const bad = await call(base, '/indicators/feed/json', {
    indicators: [{ value: '4.4.4.4', type: 'IP', expirationPolicy: 'interval' }],
  });
  assert.equal(bad.status, 400);
});

test('faults: status with Retry-After, delay, drop after handling, partial accept, times; /__sim/ endpoints need no auth', async (t) => {
  const { sim, base } = await startSim(t);
  sim.inject({ target: 'feed', status: 429, retryAfter: 7, times: 2 });
  for (let k = 0; k < 2; k++) {
    const r = await call(base, '/indicators/feed/json', feed(['1.1.1.1']));
    assert.deepEqual([r.status, r.headers.get('retry-after'), r.body.id], [429, '7', 'too_many_requests']);
  }
  assert.equal((await call(base, '/indicators/feed/json', feed(['1.1.1.1']))).status, 201);
  sim.inject({ target: 'search', status: 503 });
  assert.equal(
    (await call(base, '/indicators/feed/json', feed(['1.1.1.2']))).status,
    201,
    'a search fault leaves feeds alone',
  );
  assert.equal((await call(base, '/indicators/search', { size: 1 })).status, 503);
  sim.inject({ dropAfterHandling: true });
  await assert.rejects(call(base, '/indicators/feed/json', feed(['6.6.6.6'])));
  assert.ok(sim.indicator('6.6.6.6'), 'handled before the connection was dropped');
  sim.inject({ partialAccept: 2 });
  const p = await call(base, '/indicators/feed/json', feed(['7.0.0.1', '7.0.0.2', '7.0.0.3']));
  assert.equal(p.status, 500);
  assert.deepEqual(
    ['7.0.0.1', '7.0.0.2', '7.0.0.3'].map((v) => !!sim.indicator(v)),
    [true, true, false],
  );
  sim.inject({ delayMs: 150 });
  const t0 = Date.now();
  assert.equal((await call(base, '/indicators/search', { size: 1 })).status, 200);
  assert.ok(Date.now() - t0 >= 140);
  sim.inject({ status: 500, times: 5 });
  const state = (await (await fetch(`${base}/__sim/state`)).json()) as Json;
  assert.deepEqual([state.tenants[''].indicators, state.faults], [5, 1]);
  assert.deepEqual(await (await fetch(`${base}/__sim/reset-faults`, { method: 'POST' })).json(), { ok: true });
  assert.equal((await call(base, '/indicators/search', { size: 1 })).status, 200);
  const log = (await (await fetch(`${base}/__sim/requests`)).json()) as Json[];
  assert.ok(log.some((q) => q.status === -1 && q.path === '/indicators/feed/json'));
});

test('command timeout: a feed request that takes too long ingests what fit and answers 504', async (t) => {
  const { sim, base } = await startSim(t, { perIndicatorMs: 1, commandTimeoutMs: 20 });
  const r = await call(base, '/indicators/feed/json', feed(Array.from({ length: 50 }, (_, k) => `8.0.0.${k}`)));
  assert.equal(r.status, 504);
  assert.match(r.body.detail, /20 of 50 indicators ingested/);
  assert.equal(sim.indicators().length, 20);
  assert.equal(
    (await call(base, '/indicators/feed/json', feed(Array.from({ length: 20 }, (_, k) => `9.0.0.${k}`)))).status,
    201,
  );
});

test('JSON null counts as absent (Go zero values): demisto-py sends every unset model attribute as null', async (t) => {
  const { sim, base } = await startSim(t);
  const c = await call(base, '/indicator/create', {
    entryId: null,
    investigationId: null,
    seenNow: true,
    indicator: {
      value: 'n.example',
      indicator_type: 'Domain',
      score: 2,
      manualScore: true,
      comment: null,
      CustomFields: null,
      firstSeen: null,
    },
  });
  assert.equal(c.status, 200);
  const e = await call(base, '/indicator/edit', {
    id: c.body.id,
    version: c.body.version,
    value: 'n.example',
    indicator_type: null,
    score: 3,
    manualScore: true,
    CustomFields: null,
    comment: null,
  });
  assert.deepEqual([e.status, e.body.indicator_type, e.body.score, e.body.comment], [200, 'Domain', 3, '']);
  const s = await call(base, '/indicators/search', { query: null, size: 5, page: null, searchAfter: null });
  assert.equal(s.body.total, 1);
  const f = await call(base, '/indicators/feed/json', {
    indicators: [{ value: 'm.example', type: 'Domain', score: null, reliability: null }],
    bypassExclusionList: null,
    classifierId: null,
  });
  assert.equal(f.status, 201);
  assert.equal(must(sim.indicator('m.example'), "sim.indicator('m.example')").score, 0);
});

test('shared indicators: each source brand keeps its own expiration (the latest wins); hand-made indicators carry the Manual source and manuallyEditedFields', async (t) => {
  let now = Date.parse('2026-03-01T12:00:00Z');
  const { sim, base } = await startSim(t, { now: () => now });
  await call(base, '/indicators/feed/json', {
    indicators: [
      {
        value: '1.1.1.1',
        type: 'IP',
        score: 3,
        sourceBrand: 'A',
        expirationPolicy: 'interval',
        expirationInterval: 600,
      },
    ],
  });
  await call(base, '/indicators/feed/json', {
    indicators: [
      { value: '1.1.1.1', type: 'IP', score: 0, sourceBrand: 'B', expirationPolicy: 'interval', expirationInterval: 1 },
    ],
  });
  let i = must(sim.indicator('1.1.1.1'), "sim.indicator('1.1.1.1')");
  assert.deepEqual([i.sourceBrands, i.score, i.expiration], [['A', 'B'], 3, '2026-03-01T22:00:00.000Z']);
  now += 5 * 60_000;
  assert.equal(
    must(sim.indicator('1.1.1.1'), "sim.indicator('1.1.1.1')").expirationStatus,
    'active',
    'source A keeps it active after B expired',
  );
  await call(base, '/indicator/create', { indicator: { value: '2.2.2.2', indicator_type: 'IP', comment: 'by hand' } });
  i = must(sim.indicator('2.2.2.2'), "sim.indicator('2.2.2.2')");
  assert.deepEqual([i.sourceBrands, i.manuallyEditedFields], [['Manual'], ['comment']]);
});
