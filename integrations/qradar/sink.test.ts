import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StixgateError } from '../../src/core/errors.js';
import type { SinkOutcome } from '../../src/delivery/types.js';
import { createQradarSink } from './sink.js';
import { config, ictx, ips, records, runContext, startSim } from './test-kit.js';
import type { QradarSimulatorOptions } from './simulator.js';
import { must } from '../../test/helpers/must.js';

/** The two API generations: a current console (collections) and an old one (legacy sets). */
const GENERATIONS: { name: string; sim: QradarSimulatorOptions; bulkPath: RegExp; legacy: boolean }[] = [
  {
    name: 'collections (API 26.0)',
    sim: { apiVersion: '26.0' },
    bulkPath: /^\/api\/reference_data_collections\/set_entries$/,
    legacy: false,
  },
  // set names are encoded once in the path (a double-encoded name is not found)
  {
    name: 'legacy (API 12.0)',
    sim: { apiVersion: '12.0' },
    bulkPath: /^\/api\/reference_data\/sets\/bulk_load\/stixgate%20-%20IPv4$/,
    legacy: true,
  },
];

const URLS = ['http://evil.example:8080/a/b/c?x=1&y=2', 'https://bad.example/path%20with/encoded:colon'];
const ok = (n: number): SinkOutcome[] => Array.from({ length: n }, () => ({ status: 'ok' }));

async function rejectsWith(p: Promise<unknown>, code: string): Promise<StixgateError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof StixgateError, String(e));
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

for (const g of GENERATIONS) {
  test(`${g.name}: prepare creates the sets (types, TTL); upsert routes values; re-adding is idempotent`, async (t) => {
    const clock = { ms: Date.parse('2026-03-01T12:00:00Z') };
    const { sim, base } = await startSim(t, { ...g.sim, now: () => clock.ms });
    const ctx = runContext(t);
    const sink = createQradarSink(config(base, { ttl_days: 30 }), ictx);
    await must(sink.prepare, 'sink.prepare').call(sink, ctx);
    await must(sink.prepare, 'sink.prepare').call(sink, ctx); // idempotent
    const sets = new Map(sim.sets().map((s) => [s.name, s]));
    // legacy reference sets have no CIDR element type (IBM: ALN, ALNIC, IP, NUM, PORT, DATE): no CIDR set there
    assert.equal(sets.size, g.legacy ? 12 : 13);
    assert.equal(must(sets.get('stixgate - IPv4'), "sets.get('stixgate - IPv4')").element_type, 'IP');
    assert.equal(sets.get('stixgate - IPv4 CIDR')?.element_type, g.legacy ? undefined : 'CIDR');
    assert.equal(must(sets.get('stixgate - Domains'), "sets.get('stixgate - Domains')").element_type, 'ALNIC');
    assert.equal(must(sets.get('stixgate - IPv4'), "sets.get('stixgate - IPv4')").timeout_type, 'LAST_SEEN');
    assert.equal(
      must(sets.get('stixgate - IPv4'), "sets.get('stixgate - IPv4')").time_to_live,
      '0 years 0mons 30 days 0 hours 0mins 0.0 secs',
    );
    const recs = records([
      '1.2.3.4',
      '2001:db8::1',
      'evil.example',
      ...URLS,
      'bad@evil.example',
      'd41d8cd98f00b204e9800998ecf8427e',
      '10.0.0.0/8',
      '1.2.3.4',
    ]);
    const out = await sink.upsert(recs, ctx);
    const cidr = recs.findIndex((r) => r.observable.value === '10.0.0.0/8');
    if (g.legacy) {
      assert.match(
        (out[cidr] as { reason: string }).reason,
        /reference_data\/sets has no CIDR element type.*api: collections/,
      );
      assert.deepEqual(
        out.filter((_, i) => i !== cidr),
        ok(recs.length - 1),
      );
    } else assert.deepEqual(out, ok(recs.length));
    assert.deepEqual(sim.values('stixgate - IPv4'), ['1.2.3.4'], 'the repeated value is sent once');
    assert.deepEqual(sim.values('stixgate - IPv6'), ['2001:db8::1']);
    assert.deepEqual(sim.values('stixgate - Domains'), ['evil.example']);
    assert.deepEqual(
      sim.values('stixgate - URLs'),
      recs.filter((r) => r.observable.type === 'url').map((r) => r.observable.value),
    );
    assert.deepEqual(sim.values('stixgate - Email Addresses'), ['bad@evil.example']);
    assert.deepEqual(sim.values('stixgate - MD5 Hashes'), ['d41d8cd98f00b204e9800998ecf8427e']);
    if (!g.legacy) assert.deepEqual(sim.values('stixgate - IPv4 CIDR'), ['10.0.0.0/8']);
    assert.ok(
      sim.requests.some((r) => g.bulkPath.test(r.path)),
      'bulk path of this generation used',
    );
    const before = must(sim.elements('stixgate - IPv4')[0], "sim.elements('stixgate - IPv4')[0]");
    const firstSeen = before.firstSeen;
    clock.ms += 5_000;
    assert.deepEqual(await sink.upsert(records(['1.2.3.4', 'EVIL.example']), ctx), ok(2));
    assert.deepEqual(sim.values('stixgate - IPv4'), ['1.2.3.4']);
    assert.deepEqual(sim.values('stixgate - Domains'), ['evil.example']);
    const after = must(sim.elements('stixgate - IPv4')[0], "sim.elements('stixgate - IPv4')[0]");
    assert.equal(after.firstSeen, firstSeen);
    assert.ok(after.lastSeen > firstSeen, 'last_seen refreshed (extends a LAST_SEEN TTL)');
  });

  test(`${g.name}: removal of URL values with "/" and ":", twice (404 is success), and of values never pushed`, async (t) => {
    const { sim, base } = await startSim(t, g.sim);
    const ctx = runContext(t);
    const sink = createQradarSink(config(base), ictx);
    await must(sink.prepare, 'sink.prepare').call(sink, ctx);
    await sink.upsert(records([...URLS, 'keep.example', '5.6.7.8']), ctx);
    assert.equal(sim.values('stixgate - URLs').length, 2);
    assert.deepEqual(await sink.remove(records([...URLS, '5.6.7.8'], 'remove'), ctx), ok(3));
    assert.deepEqual(sim.values('stixgate - URLs'), []);
    assert.deepEqual(sim.values('stixgate - IPv4'), []);
    assert.deepEqual(sim.values('stixgate - Domains'), ['keep.example']);
    assert.deepEqual(await sink.remove(records([...URLS, 'never.example'], 'remove'), ctx), ok(3));
  });

  test(`${g.name}: values the console refuses are rejected one by one, the rest of the batch is stored`, async (t) => {
    const { sim, base } = await startSim(t, { ...g.sim, maxValueLength: 40 });
    const ctx = runContext(t);
    const sink = createQradarSink(config(base), ictx);
    await must(sink.prepare, 'sink.prepare').call(sink, ctx);
    const long = `http://evil.example/${'x'.repeat(40)}`;
    const recs = records(['a.example', long, 'b.example', long.replace('evil', 'vile')].map((v) => v));
    const out = await sink.upsert(recs, ctx);
    assert.deepEqual(
      out.map((o) => o.status),
      ['ok', 'reject', 'ok', 'reject'],
    );
    assert.match((out[1] as { reason: string }).reason, /URLs.*(422|code 2000[47]|1005).*maximum length/);
    assert.deepEqual(sim.values('stixgate - Domains'), ['a.example', 'b.example']);
    assert.deepEqual(sim.values('stixgate - URLs'), []);
  });

  test(`${g.name}: 401 throws SINK_AUTH (the engine pauses the sink); 429 throws a retryable error with retryAfterMs`, async (t) => {
    const { sim, base } = await startSim(t, g.sim);
    const ctx = runContext(t);
    const sink = createQradarSink(config(base), ictx);
    await must(sink.prepare, 'sink.prepare').call(sink, ctx);
    sim.inject({ status: 429, retryAfter: 7 });
    const e429 = await rejectsWith(sink.upsert(records(['1.2.3.4']), ctx), 'STIXGATE_ERR_HTTP_STATUS');
    assert.equal(e429.retryable, true);
    assert.equal(e429.retryAfterMs, 7000);
    sim.inject({ status: 503 });
    assert.equal(
      (await rejectsWith(sink.remove(records(['1.2.3.4'], 'remove'), ctx), 'STIXGATE_ERR_HTTP_STATUS')).retryable,
      true,
    );
    sim.revoke('sec-token');
    const auth = await rejectsWith(sink.upsert(records(['1.2.3.4']), ctx), 'STIXGATE_ERR_SINK_AUTH');
    assert.match(auth.message, /qradar sink qradar-test: .*401/);
    assert.doesNotMatch(auth.message, /sec-token/);
  });

  test(`S4 ${g.name}: a timeout after the console handled the batch, then a resend, gives the state of one delivery`, async (t) => {
    const { sim, base } = await startSim(t, g.sim);
    const ctx = runContext(t);
    const sink = createQradarSink(config(base), ictx);
    await must(sink.prepare, 'sink.prepare').call(sink, ctx);
    const recs = records(ips(50));
    sim.inject({ dropAfterHandling: true, target: g.sim.apiVersion === '26.0' ? 'collections' : 'legacy' });
    const e = await rejectsWith(sink.upsert(recs, ctx), 'STIXGATE_ERR_HTTP_NETWORK');
    assert.equal(e.retryable, true);
    assert.deepEqual(await sink.upsert(recs, ctx), ok(50));
    assert.deepEqual(sim.values('stixgate - IPv4'), ips(50));
    sim.inject({ dropAfterHandling: true, target: g.sim.apiVersion === '26.0' ? 'collections' : 'legacy' });
    await assert.rejects(sink.remove(records(ips(2), 'remove'), ctx));
    assert.deepEqual(await sink.remove(records(ips(2), 'remove'), ctx), ok(2));
    assert.deepEqual(sim.values('stixgate - IPv4'), ips(50).slice(2));
  });

  test(`${g.name}: a set deleted behind the sink's back is created again on the next add`, async (t) => {
    const { sim, base } = await startSim(t, g.sim);
    const ctx = runContext(t);
    const sink = createQradarSink(
      config(base, { filters: { types: ['ipv4-addr'], min_score: 0, labels: [], exclude_labels: [], sources: [] } }),
      ictx,
    );
    await must(sink.prepare, 'sink.prepare').call(sink, ctx);
    assert.deepEqual(
      sim.sets().map((s) => s.name),
      g.legacy ? ['stixgate - IPv4'] : ['stixgate - IPv4', 'stixgate - IPv4 CIDR'],
      'only the filtered types',
    );
    sim.store.delete(must(sim.set('stixgate - IPv4'), "sim.set('stixgate - IPv4')"));
    assert.deepEqual(await sink.upsert(records(['9.9.9.9']), ctx), ok(1));
    assert.deepEqual(sim.values('stixgate - IPv4'), ['9.9.9.9']);
  });
}

test('values a set type cannot hold are rejected before sending (IPv6 routed to an IP set); their removal is a no-op', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = createQradarSink(config(base, { mapping: 'integrations/qradar/testdata/ipv6-in-ip-set.yaml' }), ictx);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  const out = await sink.upsert(records(['2001:db8::2', '1.1.1.1']), ctx);
  assert.equal(must(out[0], 'out[0]').status, 'reject');
  assert.match((out[0] as { reason: string }).reason, /set "stixgate - Addresses" \(IP\): not an IPv4 address/);
  assert.deepEqual(out[1], { status: 'ok' });
  assert.deepEqual(sim.values('stixgate - Addresses'), ['1.1.1.1']);
  const n = sim.requests.length;
  assert.deepEqual(await sink.remove(records(['2001:db8::2'], 'remove'), ctx), ok(1));
  assert.equal(sim.requests.length, n, 'nothing sent');
});

test('version: auto picks the newest non-removed version ≤ 26.0 and sends it; api: legacy on a 26.0 console uses the namespaced bulk_load', async (t) => {
  const { sim, base } = await startSim(t, { apiVersion: '27.0' });
  const ctx = runContext(t);
  const sink = createQradarSink(config(base, { api: 'legacy' }), ictx);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  await sink.upsert(records(['1.2.3.4']), ctx);
  const writes = sim.requests.filter((r) => r.method !== 'GET' || r.path !== '/api/help/versions');
  assert.ok(
    writes.every((r) => r.version === '26.0'),
    JSON.stringify(writes.map((r) => r.version)),
  );
  assert.ok(
    sim.requests.some((r) => r.path === '/api/reference_data/sets/bulk_load/SHARED/stixgate%20-%20IPv4/SHARED'),
  );
  assert.match(
    await must(sink.probe, 'sink.probe').call(sink, ctx),
    /^QRadar 7\.5\.0, REST API 26\.0, reference_data\/sets; 12 sets; the token may call all 5 endpoints the sink uses$/,
  );
  const fixed = createQradarSink(config(base, { api_version: '12.0', api: 'collections' }), ictx);
  await rejectsWith(must(fixed.prepare, 'fixed.prepare').call(fixed, ctx), 'STIXGATE_ERR_CONFIG_INVALID');
});

test('Basic auth; config errors are reported with their keys', async (t) => {
  const { sim, base } = await startSim(t, { users: { svc: 's3cret' } });
  const ctx = runContext(t);
  const sink = createQradarSink(config(base, { token: undefined, username: 'svc', password: 's3cret' }), ictx);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  assert.ok(sim.requests.every((r) => r.auth === 'Basic'));
  assert.throws(
    () => createQradarSink(config(base, { token: undefined }), ictx),
    /token: is required \(or username and password\)/,
  );
  assert.throws(
    () => createQradarSink(config(base, { username: 'x', password: 'y' }), ictx),
    /use either token or username\/password/,
  );
  assert.throws(
    () => createQradarSink(config(base, { sets: { 'ipv9-addr': 'x' } }), ictx),
    /sets\.ipv9-addr: unknown routing key/,
  );
});

test('collections: the bulk task is polled until it completes; a task past task_timeout_secs throws a retryable timeout', async (t) => {
  const { sim, base } = await startSim(t, { taskDelayMs: 150 });
  const ctx = runContext(t);
  const sink = createQradarSink(config(base), ictx);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  assert.deepEqual(await sink.upsert(records(ips(3)), ctx), ok(3));
  const polls = sim.requests.filter((r) => /set_bulk_update_tasks\/\d+$/.test(r.path)).length;
  assert.ok(polls >= 2, `polled ${polls} times`);
  const { base: base2 } = await startSim(t, { taskDelayMs: 5000 });
  const slow = createQradarSink(config(base2, { task_timeout_secs: 1 }), ictx);
  await must(slow.prepare, 'slow.prepare').call(slow, ctx);
  const e = await rejectsWith(slow.upsert(records(ips(2)), ctx), 'STIXGATE_ERR_HTTP_TIMEOUT');
  assert.equal(e.retryable, true);
  assert.equal(e.reason, 'task_timeout');
});

test('collections: partial bulk results give per-item retry outcomes; entries carry source and notes from the mapping table', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = createQradarSink(config(base), ictx);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  sim.inject({ partialAccept: 2, target: 'collections' });
  const recs = records(ips(4));
  const out = await sink.upsert(recs, ctx);
  assert.deepEqual(
    out.map((o) => o.status),
    ['ok', 'ok', 'retry', 'retry'],
  );
  const e = sim.elements('stixgate - IPv4');
  assert.deepEqual(
    e.map((x) => x.value),
    ips(2),
  );
  assert.equal(must(e[0], 'e[0]').source, 'stixgate');
  assert.equal(must(e[0], 'e[0]').notes, must(recs[0], 'recs[0]').object.id);
});

test('collections: removal finds ALNIC entries whatever their case (entry_type makes the filter type aware)', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = createQradarSink(config(base), ictx);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  const set = must(sim.set('stixgate - Domains'), "sim.set('stixgate - Domains')");
  sim.store.add(set, 'EVIL.Example', Date.now(), 'another tool');
  assert.deepEqual(await sink.remove(records(['evil.example'], 'remove'), ctx), ok(1));
  assert.deepEqual(sim.values('stixgate - Domains'), []);
});
