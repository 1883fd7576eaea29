import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StixgateError } from '../../src/core/errors.js';
import { s, validate } from '../../src/core/schema.js';
import type { HttpClient } from '../../src/http/types.js';
import { xsoarSink } from './index.js';
import { verdictOf } from './sink.js';
import { ADV_KEY, KEY, NOW, config, ictx, ips, records, runContext, startSim } from './test-kit.js';
import { must } from '../../test/helpers/must.js';

const sink = (url: string, over: Parameters<typeof config>[1] = {}) => xsoarSink.create(config(url, over), ictx);
const ok = (n: number) => Array.from({ length: n }, () => ({ status: 'ok' }));

async function rejectsWith(p: Promise<unknown>, check: (e: StixgateError) => void): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof StixgateError, String(e));
    check(e);
    return true;
  });
}

test('verdict thresholds: ≥ bad is 3, ≥ suspicious is 2, below good_below is 1, else and no score 0', () => {
  const v = { bad: 75, suspicious: 40 } as Parameters<typeof verdictOf>[1];
  assert.deepEqual(
    [100, 75, 74, 40, 39, 0, null].map((s) => verdictOf(s, v)),
    [3, 3, 2, 2, 0, 0, 0],
  );
  assert.deepEqual(
    [39, 10, 9].map((s) => verdictOf(s, { ...v, good_below: 10 })),
    [0, 0, 1],
  );
});

test('v6 upsert: one feed/json request creates typed indicators with verdict, fields, source brand and expiration from valid_until', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const recs = records(
    ['198.51.100.7', 'evil.example', 'http://evil.example/a', 'd41d8cd98f00b204e9800998ecf8427e', '2001:db8::/32'],
    'upsert',
    80,
    {
      valid_until: new Date(NOW + 90 * 60_000).toISOString(),
      labels: ['c2'],
      object_marking_refs: ['marking-definition--f88d31f6-486f-44da-b317-01333bde0b82'],
    },
  );
  assert.deepEqual(await sink(base).upsert(recs, ctx), ok(5));
  assert.equal(sim.requests.length, 1);
  assert.deepEqual(must(sim.requests[0], 'sim.requests[0]').items, 5);
  const by = new Map(sim.indicators().map((i) => [i.value, i]));
  assert.deepEqual(
    [...by.values()].map((i) => [i.value, i.indicator_type, i.score]),
    [
      ['198.51.100.7', 'IP', 3],
      ['evil.example', 'Domain', 3],
      ['http://evil.example/a', 'URL', 3],
      ['d41d8cd98f00b204e9800998ecf8427e', 'File', 3],
      ['2001:db8::/32', 'IPv6CIDR', 3],
    ],
  );
  const ip = must(by.get('198.51.100.7'), "by.get('198.51.100.7')");
  assert.deepEqual(ip.sourceBrands, ['stixgate']);
  assert.deepEqual(ip.sourceInstances, ['stixgate']);
  assert.equal(ip.manualScore, false);
  assert.equal(ip.CustomFields.trafficlightprotocol, 'AMBER');
  assert.deepEqual(ip.CustomFields.tags, ['c2']);
  assert.equal(ip.CustomFields.stixid, must(recs[0], 'recs[0]').object.id);
  assert.equal('tags' in must(by.get('evil.example'), "by.get('evil.example')").CustomFields, true);
  assert.equal(must(ip.expirationSource, 'ip.expirationSource').expirationPolicy, 'interval');
  assert.equal(must(ip.expirationSource, 'ip.expirationSource').expirationInterval, 90);
  await sink(base).upsert(records(['198.51.100.7'], 'upsert', 80), ctx);
  assert.deepEqual(
    must(sim.indicator('198.51.100.7'), "sim.indicator('198.51.100.7')").CustomFields.tags,
    ['c2'],
    'a push without labels leaves the tags alone',
  );
});

test('re-sending the same values keeps one indicator per value; a score change updates the verdict', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const s = sink(base);
  await s.upsert(records(['1.2.3.4', 'a.example'], 'upsert', 90), ctx);
  await s.upsert(records(['1.2.3.4', 'a.example'], 'upsert', 90), ctx);
  assert.equal(sim.indicators().length, 2);
  assert.equal(must(sim.indicator('1.2.3.4'), "sim.indicator('1.2.3.4')").version, 2);
  await s.upsert(records(['1.2.3.4'], 'upsert', 50), ctx);
  assert.equal(must(sim.indicator('1.2.3.4'), "sim.indicator('1.2.3.4')").score, 2);
  await s.upsert(records(['1.2.3.4'], 'upsert', 10), ctx);
  assert.equal(must(sim.indicator('1.2.3.4'), "sim.indicator('1.2.3.4')").score, 0);
  await s.upsert(records(['1.2.3.4'], 'upsert', null), ctx);
  assert.equal(must(sim.indicator('1.2.3.4'), "sim.indicator('1.2.3.4')").score, 0);
  assert.equal(sim.indicators().length, 2);
});

test("removal deletes with doNotWhitelist (nothing excluded), leaves other brands' indicators, and a later push creates the value again", async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const s = sink(base);
  await s.upsert(records(['1.1.1.1', '2.2.2.2']), ctx);
  await fetch(`${base}/indicators/feed/json`, {
    method: 'POST',
    headers: { Authorization: KEY },
    body: JSON.stringify({ indicators: [{ value: '3.3.3.3', type: 'IP', sourceBrand: 'Analyst' }] }),
  });
  const out = await s.remove(records(['1.1.1.1', '3.3.3.3', '4.4.4.4'], 'remove'), ctx);
  assert.deepEqual(out, ok(3));
  assert.deepEqual(
    sim.indicators().map((i) => i.value),
    ['2.2.2.2', '3.3.3.3'],
  );
  assert.deepEqual(sim.exclusions(), []);
  assert.deepEqual(
    sim.requests.slice(-2).map((q) => [q.path, q.items]),
    [
      ['/indicators/search', 0],
      ['/indicators/batchDelete', 1],
    ],
  );
  await s.upsert(records(['1.1.1.1']), ctx);
  assert.ok(sim.indicator('1.1.1.1'), 'not blocked by an exclusion');
  assert.deepEqual(await s.remove(records(['1.1.1.1'], 'remove'), ctx), ok(1));
  assert.deepEqual(await s.remove(records(['1.1.1.1'], 'remove'), ctx), ok(1), 'removing again is a no-op');
});

test('401/403 become STIXGATE_ERR_SINK_AUTH (v6 bad key, v8 revoked key)', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  await rejectsWith(sink(base, { api_key: 'wrong' }).upsert(records(['1.1.1.1']), ctx), (e) => {
    assert.equal(e.code, 'STIXGATE_ERR_SINK_AUTH');
    assert.match(e.message, /403: Issue with CSRF code: http: named cookie not present/);
    assert.doesNotMatch(e.message, /wrong/);
  });
  sim.revoke(KEY);
  await rejectsWith(sink(base, { version: 8, auth_id: 1 }).remove(records(['1.1.1.1'], 'remove'), ctx), (e) => {
    assert.equal(e.code, 'STIXGATE_ERR_SINK_AUTH');
    assert.equal(e.reason, 'status_401');
  });
});

test('429 with Retry-After and 5xx are thrown as retryable errors carrying retryAfterMs', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  sim.inject({ target: 'feed', status: 429, retryAfter: 7 });
  await rejectsWith(sink(base).upsert(records(['1.1.1.1']), ctx), (e) => {
    assert.equal(e.code, 'STIXGATE_ERR_HTTP_STATUS');
    assert.equal(e.retryable, true);
    assert.equal(e.retryAfterMs, 7000);
  });
  sim.inject({ target: 'search', status: 503 });
  await rejectsWith(sink(base).remove(records(['1.1.1.1'], 'remove'), ctx), (e) => assert.equal(e.retryable, true));
  assert.equal(sim.indicators().length, 0);
});

test('S4: a timeout after the server handled the batch: the resend gives the same end state', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const s = sink(base);
  const recs = records(ips(300), 'upsert', 80);
  sim.inject({ target: 'feed', dropAfterHandling: true });
  await rejectsWith(s.upsert(recs, ctx), (e) => assert.equal(e.retryable, true));
  const before = sim.indicators().map((i) => [i.id, i.value, i.score]);
  assert.equal(before.length, 300);
  assert.deepEqual(await s.upsert(recs, ctx), ok(300));
  assert.deepEqual(
    sim.indicators().map((i) => [i.id, i.value, i.score]),
    before,
  );
  sim.inject({ target: 'delete', dropAfterHandling: true });
  await rejectsWith(s.remove(records(ips(300), 'remove'), ctx), (e) => assert.equal(e.retryable, true));
  assert.deepEqual(await s.remove(records(ips(300), 'remove'), ctx), ok(300));
  assert.deepEqual([sim.indicators().length, sim.exclusions().length], [0, 0]);
});

test("batch limit: never more than 2,000 (or the configured size) indicators per request; the server's command timeout is retryable", async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  assert.deepEqual(xsoarSink.limits.maxBatch, 2000);
  assert.deepEqual(sink(base).limits.maxBatch, 2000);
  const recs = records(ips(4500), 'upsert', 80);
  assert.deepEqual(await sink(base).upsert(recs, ctx), ok(4500));
  assert.deepEqual(
    sim.requests.map((q) => q.items),
    [2000, 2000, 500],
  );
  assert.equal(sim.indicators().length, 4500);
  const small = sink(base, { max_batch_size: 700 });
  assert.equal(small.limits.maxBatch, 700);
  sim.requests.length = 0;
  await small.remove(records(ips(1500), 'remove'), ctx);
  assert.ok(sim.requests.filter((q) => q.path.endsWith('batchDelete')).every((q) => q.items <= 700));
  assert.equal(sim.indicators().length, 3000);

  const { sim: slow, base: b2 } = await startSim(t, { perIndicatorMs: 0.01, commandTimeoutMs: 5 });
  await rejectsWith(sink(b2).upsert(records(ips(1000)), ctx), (e) => assert.equal(e.retryable, true));
  assert.equal(slow.indicators().length, 500);
  assert.deepEqual(await sink(b2, { max_batch_size: 400 }).upsert(records(ips(1000)), ctx), ok(1000));
  assert.equal(slow.indicators().length, 1000);
});

test('a batch the server refuses is split until the bad records are rejected alone', async (t) => {
  const { sim, base } = await startSim(t, { types: ['IP', 'Domain'] });
  const ctx = runContext(t);
  const recs = records([...ips(40), 'bad.example', '5d41402abc4b2a76b9719d911017c592', ...ips(40, 40)]);
  const out = await sink(base).upsert(recs, ctx);
  assert.equal(out.filter((o) => o.status === 'ok').length, 81);
  assert.deepEqual(out[41], {
    status: 'reject',
    reason: 'XSOAR refused File 5d41402abc4b2a76b9719d911017c592: indicators[0]: unknown indicator type "File"',
  });
  assert.equal(sim.indicators().length, 81);
});

test('unmapped observable types are rejected without a request', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const recs = records(['1.1.1.1', 'mail@evil.example']);
  const s = xsoarSink.create(config(base, { mapping: 'integrations/xsoar/testdata/ip-only.yaml' }), ictx);
  const out = await s.upsert(recs, ctx);
  assert.deepEqual(out[0], { status: 'ok' });
  assert.equal(must(out[1], 'out[1]').status, 'reject');
  assert.match(
    (out[1] as { reason: string }).reason,
    /no XSOAR indicator type for observable type email-addr in .*ip-only\.yaml/,
  );
  assert.equal(sim.indicators().length, 1);
});

test('v8: /xsoar/public/v1 with a standard key, /xsoar with an advanced key (hash per request)', async (t) => {
  const { sim, base } = await startSim(t, { rejectReusedNonce: true });
  const ctx = runContext(t);
  await sink(base, { version: 8, auth_id: 1 }).upsert(records(['1.1.1.1']), ctx);
  const adv = sink(base, { version: 8, auth_id: 2, api_key: ADV_KEY, key_type: 'advanced', api_path: '/xsoar' });
  await adv.upsert(records(['2.2.2.2']), ctx);
  await adv.remove(records(['1.1.1.1'], 'remove'), ctx);
  assert.deepEqual(
    sim.requests.map((q) => [q.path, q.scheme, q.status]),
    [
      ['/xsoar/public/v1/indicators/feed/json', 'standard', 201],
      ['/xsoar/indicators/feed/json', 'advanced', 201],
      ['/xsoar/indicators/search', 'advanced', 200],
      ['/xsoar/indicators/batchDelete', 'advanced', 200],
    ],
  );
  assert.deepEqual(
    sim.indicators().map((i) => i.value),
    ['2.2.2.2'],
  );
});

test('v6 tenant: requests go to /acc_<tenant>/', async (t) => {
  const { sim, base } = await startSim(t);
  const s = sink(base, { tenant: 'acme' });
  const ctx = runContext(t);
  await s.upsert(records(['1.1.1.1']), ctx);
  assert.equal(sim.indicators('acme').length, 1);
  assert.equal(sim.indicators().length, 0);
  assert.match(
    await must(s.probe, 's.probe').call(s, ctx),
    /XSOAR 6 at http:\/\/127\.0\.0\.1:\d+\/acc_acme: 1 indicators from source brand stixgate/,
  );
});

test('pin_verdict: the verdict is set manually with the current version; a conflict is refetched; resends change nothing', async (t) => {
  const { sim, base } = await startSim(t);
  const real = runContext(t);
  let bumped = 0;
  // another writer edits the indicator between the sink's read and its edit, once
  const http: HttpClient = {
    async request(req) {
      if (req.url.endsWith('/indicator/edit') && bumped === 0) {
        bumped++;
        const ioc = JSON.parse(String(req.body)) as { id: string };
        sim.store().edit({ id: ioc.id, version: -1, comment: 'analyst' });
      }
      return real.http.request(req);
    },
  };
  const ctx = { ...real, http };
  const s = sink(base, { pin_verdict: true });
  assert.deepEqual(await s.upsert(records(['1.1.1.1', '2.2.2.2'], 'upsert', 50), ctx), ok(2));
  assert.equal(bumped, 1);
  const edits = sim.requests.filter((q) => q.path === '/indicator/edit').map((q) => q.status);
  assert.deepEqual(edits.sort(), [200, 200, 409]);
  for (const v of ['1.1.1.1', '2.2.2.2'])
    assert.deepEqual(
      [must(sim.indicator(v), 'sim.indicator(v)').score, must(sim.indicator(v), 'sim.indicator(v)').manualScore],
      [2, true],
    );
  assert.equal(
    must(sim.indicator('1.1.1.1'), "sim.indicator('1.1.1.1')").comment +
      must(sim.indicator('2.2.2.2'), "sim.indicator('2.2.2.2')").comment,
    'analyst',
    "the other writer's change is kept",
  );
  await fetch(`${base}/indicators/feed/json`, {
    method: 'POST',
    headers: { Authorization: KEY },
    body: JSON.stringify({ indicators: [{ value: '1.1.1.1', type: 'IP', score: 3, sourceBrand: 'Other' }] }),
  });
  assert.equal(
    must(sim.indicator('1.1.1.1'), "sim.indicator('1.1.1.1')").score,
    2,
    'a pinned verdict is not changed by other sources',
  );
  sim.requests.length = 0;
  assert.deepEqual(await s.upsert(records(['1.1.1.1', '2.2.2.2'], 'upsert', 50), ctx), ok(2));
  assert.equal(sim.requests.filter((q) => q.path === '/indicator/edit').length, 0, 'already pinned: no edit');
  // an excluded value is not created by the feed: with pin_verdict the sink sees it and rejects it
  sim.store().whitelist({ value: '9.9.9.9', reason: 'fp' });
  const out = await s.upsert(records(['9.9.9.9']), ctx);
  assert.equal(must(out[0], 'out[0]').status, 'reject');
  assert.match((out[0] as { reason: string }).reason, /exclusion list/);
});

test('configuration errors name the key', () => {
  const cases: [Parameters<typeof config>[1], RegExp][] = [
    [{ version: 8 }, /version 8 needs auth_id/],
    [{ version: 6, key_type: 'advanced' }, /advanced API keys exist on XSOAR 8 only/],
    [{ version: 8, auth_id: 1, tenant: 'x' }, /tenant applies to XSOAR 6/],
    [{ version: 7 }, /version must be 6 or 8/],
    [{ verdict: { bad: 30, suspicious: 40 } as never }, /verdict.suspicious \(40\) must not exceed verdict.bad \(30\)/],
  ];
  for (const [over, re] of cases) {
    assert.throws(
      () => sink('http://127.0.0.1:1', over),
      (e: unknown) => e instanceof StixgateError && e.code === 'STIXGATE_ERR_CONFIG_INVALID' && re.test(e.message),
    );
  }
});

test('config schema: defaults, the secret key, and every bad key reported with its path', () => {
  const o = s.object(xsoarSink.schema);
  const good = validate(o, {
    url: 'https://api-x.example',
    api_key: 'k',
    version: 8,
    auth_id: 3,
    verdict: { bad: 80 },
  });
  assert.ok(good.ok);
  assert.deepEqual(
    [good.value.verdict, good.value.max_batch_size, good.value.key_type, good.value.source_brand],
    [{ bad: 80, suspicious: 40 }, 2000, 'standard', 'stixgate'],
  );
  assert.equal(must(xsoarSink.schema.api_key, 'xsoarSink.schema.api_key').secret, true);
  assert.deepEqual(xsoarSink.secretPaths, ['api_key']);
  const bad = validate(o, {
    url: 'https://x/xsoar',
    api_key: 'k',
    version: 7,
    max_batch_size: 2001,
    key_type: 'hmac',
    verdikt: {},
  });
  assert.equal(bad.ok, false);
  assert.deepEqual(!bad.ok && bad.issues.map((i) => i.path).sort(), [
    'key_type',
    'max_batch_size',
    'url',
    'verdikt',
    'version',
  ]);
  assert.ok(!bad.ok && bad.issues.some((i) => i.message === 'must be 6 or 8, got 7'));
});

test('removal of shared or analyst-touched indicators expires only the stixgate contribution; a stixgate-only untouched indicator is deleted', async (t) => {
  let now = Date.parse('2026-03-01T12:00:00Z');
  const { sim, base } = await startSim(t, { now: () => now });
  const ctx = runContext(t);
  const s = sink(base);
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { Authorization: KEY },
      body: JSON.stringify(body),
    });
    assert.ok(r.ok, `${path} answered ${r.status}`);
    return (await r.json().catch(() => ({}))) as Record<string, unknown>;
  };
  await s.upsert(records(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5']), ctx);
  // 10.0.0.1 shared with another feed; 10.0.0.2 commented by an analyst; 10.0.0.3 created manually first;
  // 10.0.0.4 stixgate's alone; 10.0.0.5 verdict set by hand
  await post('/indicators/feed/json', {
    indicators: [
      {
        value: '10.0.0.1',
        type: 'IP',
        score: 2,
        sourceBrand: 'OtherFeed',
        expirationPolicy: 'interval',
        expirationInterval: 10080,
      },
    ],
  });
  const two = must(sim.indicator('10.0.0.2'), "sim.indicator('10.0.0.2')");
  await post('/indicator/edit', { id: two.id, version: two.version, comment: 'seen in case 42' });
  await post('/indicator/create', {
    indicator: { value: '10.0.0.3', indicator_type: 'IP', comment: 'analyst' },
    seenNow: true,
  });
  const five = must(sim.indicator('10.0.0.5'), "sim.indicator('10.0.0.5')");
  await post('/indicator/edit', { id: five.id, version: five.version, score: 1, manualScore: true });
  assert.ok(must(sim.indicator('10.0.0.3'), "sim.indicator('10.0.0.3')").sourceBrands.includes('Manual'));
  assert.deepEqual(must(sim.indicator('10.0.0.2'), "sim.indicator('10.0.0.2')").manuallyEditedFields, ['comment']);

  const out = await s.remove(records(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'], 'remove'), ctx);
  assert.deepEqual(out, ok(5));
  assert.deepEqual(
    sim.indicators().map((i) => i.value),
    ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.5'],
    'only the stixgate-only untouched indicator is deleted',
  );
  assert.deepEqual(sim.exclusions(), []);
  now += 2 * 60_000;
  const one = must(sim.indicator('10.0.0.1'), "sim.indicator('10.0.0.1')");
  assert.equal(one.score, 2, "the other feed's verdict remains");
  assert.equal(one.sourceScores.stixgate, 0, 'the stixgate contribution carries no verdict any more');
  assert.equal(one.expirationStatus, 'active', 'the other feed keeps the indicator active');
  const analysed = must(sim.indicator('10.0.0.2'), "sim.indicator('10.0.0.2')");
  assert.equal(analysed.comment, 'seen in case 42');
  assert.equal(
    analysed.expirationStatus,
    'expired',
    "stixgate was its only source: it expires, the analyst's work stays",
  );
  assert.equal(must(sim.indicator('10.0.0.3'), "sim.indicator('10.0.0.3')").comment, 'analyst');
  assert.equal(
    must(sim.indicator('10.0.0.5'), "sim.indicator('10.0.0.5')").score,
    1,
    'a manual verdict is never touched',
  );
});
