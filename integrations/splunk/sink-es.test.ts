import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StixgateError } from '../../src/core/errors.js';
import type { Sink, SinkRecord } from '../../src/delivery/types.js';
import { splunkEsSink } from './index.js';
import type { SplunkEsConfig } from './schema.js';
import { commonConfig, ictx, ips, JWT, records, runContext, startSim } from './sink-test-kit.js';
import { must } from '../../test/helpers/must.js';

const ES = 'DA-ESS-ThreatIntelligence';
const SHA256 = 'a'.repeat(64);

function esSink(base: string, over: Partial<SplunkEsConfig> = {}): Sink {
  const cfg: SplunkEsConfig = {
    url: base,
    auth: { bearer_token: JWT },
    owner: 'nobody',
    app: ES,
    max_documents_per_batch_save: 1000,
    max_keys_per_delete: 50,
    ...over,
  };
  return splunkEsSink.create({ ...commonConfig('splunk_es'), ...cfg }, ictx);
}

test('each observable type goes to its ES collection and field, keyed by the record key, weight from the score', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = esSink(base);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  const recs = records('splunk_es', [
    '198.51.100.7',
    '2001:db8::1',
    'evil.example',
    'http://evil.example/x',
    SHA256,
    'bad@evil.example',
  ]);
  assert.deepEqual(
    await sink.upsert(recs, ctx),
    recs.map(() => ({ status: 'ok' })),
  );
  const ip = sim.documents(ES, 'ip_intel');
  assert.deepEqual(ip.map((d) => d.ip ?? d.domain).sort(), ['198.51.100.7', '2001:db8::1', 'evil.example']);
  const d = must(
    ip.find((x) => x.ip === '198.51.100.7'),
    "ip.find((x) => x.ip === '198.51.100.7')",
  );
  assert.equal(d._key, must(recs[0], 'recs[0]').key);
  assert.equal(d.weight, 80);
  assert.equal(d.threat_key, 'feed_a', 'threat_key names the intel source');
  assert.equal(d.description, 'bad 198.51.100.7');
  assert.equal(
    d.time,
    Date.parse('2026-03-01T12:00:00Z') / 1000,
    'time is the push time (ES retention ages rows out by time)',
  );
  assert.equal(
    must(
      ip.find((x) => x.domain === 'evil.example'),
      "ip.find((x) => x.domain === 'evil.example')",
    ).ip,
    undefined,
  );
  assert.deepEqual(
    sim.documents(ES, 'http_intel').map((x) => x.url),
    ['http://evil.example/x'],
  );
  assert.deepEqual(
    sim.documents(ES, 'file_intel').map((x) => x.file_hash),
    [SHA256],
  );
  assert.deepEqual(
    sim.documents(ES, 'email_intel').map((x) => x.src_user),
    ['bad@evil.example'],
  );
  // one batch_save per collection touched
  assert.equal(sim.requests.filter((r) => r.path.endsWith('/batch_save')).length, 4);
});

test('weight stays within 1-100; a score change updates the row in place; removal by key across collections', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = esSink(base);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  await sink.upsert(records('splunk_es', ['198.51.100.7', 'http://evil.example/x'], 'upsert', 0), ctx);
  assert.equal(must(sim.documents(ES, 'ip_intel')[0], "sim.documents(ES, 'ip_intel')[0]").weight, 1);
  await sink.upsert(records('splunk_es', ['198.51.100.7'], 'upsert', 97.6), ctx);
  assert.equal(sim.documents(ES, 'ip_intel').length, 1);
  assert.equal(must(sim.documents(ES, 'ip_intel')[0], "sim.documents(ES, 'ip_intel')[0]").weight, 98);
  const out = await sink.remove(
    records('splunk_es', ['198.51.100.7', 'http://evil.example/x', 'other.example'], 'remove'),
    ctx,
  );
  assert.deepEqual(out, [{ status: 'ok' }, { status: 'ok' }, { status: 'ok' }]);
  assert.equal(sim.documents(ES, 'ip_intel').length, 0);
  assert.equal(sim.documents(ES, 'http_intel').length, 0);
});

test('a type without a route is rejected with the reason (its removal is a no-op); the rest of the batch is saved', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = esSink(base);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  const [ip] = records('splunk_es', ['198.51.100.7']);
  const cert: SinkRecord = {
    ...must(ip, 'ip'),
    key: 'c'.repeat(40),
    observable: { type: 'x509-certificate', value: 'b'.repeat(40), hash: 'SHA-1' },
  };
  const out = await sink.upsert([cert, must(ip, 'ip')], ctx);
  assert.equal(must(out[0], 'out[0]').status, 'reject');
  assert.match((out[0] as { reason: string }).reason, /no ES threat-intel collection for x509-certificate values/);
  assert.deepEqual(out[1], { status: 'ok' });
  assert.equal(must(sink.sizeOf, 'sink.sizeOf').call(sink, cert), 0);
  assert.deepEqual(await sink.remove([{ ...cert, op: 'remove' }], ctx), [{ status: 'ok' }]);
  assert.equal(sim.documents(ES, 'ip_intel').length, 1);
});

test('S2 within an ES collection: the refused row is rejected, the others saved', async (t) => {
  const { sim, base } = await startSim(t);
  must(sim.collection(ES, 'ip_intel'), "sim.collection(ES, 'ip_intel')").enforceTypes = true;
  const ctx = runContext(t);
  const sink = esSink(base);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  const recs = records('splunk_es', ips(10));
  recs[3] = { ...must(recs[3], 'recs[3]'), fields: { ...must(recs[3], 'recs[3]').fields, weight: 'heavy' } };
  const out = await sink.upsert(recs, ctx);
  assert.equal(out.filter((o) => o.status === 'ok').length, 9);
  assert.match((out[3] as { reason: string }).reason, /Failed to convert field weight/);
  assert.equal(sim.documents(ES, 'ip_intel').length, 9);
});

test('prepare: ES collections missing → SINK_PROTOCOL naming the collection; never created by the sink', async (t) => {
  const { sim, base } = await startSim(t, { esCollections: false, apps: ['search', ES] });
  const ctx = runContext(t);
  await assert.rejects(
    must(esSink(base).prepare, 'esSink(base).prepare').call(esSink(base), ctx),
    (e: unknown) =>
      e instanceof StixgateError &&
      e.code === 'STIXGATE_ERR_SINK_PROTOCOL' &&
      /collection ip_intel not found in app DA-ESS-ThreatIntelligence/.test(e.message),
  );
  assert.equal(sim.kv.collections.length, 0);
  assert.match(
    await must(esSink(base).probe, 'esSink(base).probe').call(esSink(base), ctx),
    /missing: ip_intel, http_intel, email_intel, file_intel/,
  );
});

test('401 → SINK_AUTH; 503 Retry-After → retryAfterMs; dropped connection → resend converges', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = esSink(base, { auth: { username: 'admin', password: 'changeme' } });
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  const recs = records('splunk_es', [...ips(5), 'evil.example', 'http://evil.example/']);
  sim.inject({ target: 'kv', status: 503, retryAfter: 3 });
  await assert.rejects(
    sink.upsert(recs, ctx),
    (e: unknown) => e instanceof StixgateError && e.retryable && e.retryAfterMs === 3000,
  );
  sim.inject({ target: 'kv', dropAfterHandling: true });
  await assert.rejects(sink.upsert(recs, ctx), (e: unknown) => e instanceof StixgateError && e.retryable);
  assert.ok((await sink.upsert(recs, ctx)).every((o) => o.status === 'ok'));
  assert.equal(sim.documents(ES, 'ip_intel').length, 6);
  assert.equal(sim.documents(ES, 'http_intel').length, 1);
  sim.revoke('admin');
  await assert.rejects(
    sink.upsert(recs, ctx),
    (e: unknown) => e instanceof StixgateError && e.code === 'STIXGATE_ERR_SINK_AUTH',
  );
});

test('time is the push time: a re-push of an unchanged indicator renews the row ES retention would age out', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = esSink(base);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  await sink.upsert(records('splunk_es', ['198.51.100.7']), ctx);
  const later = { ...ctx, now: ctx.now + 30 * 86_400_000 };
  await sink.upsert(records('splunk_es', ['198.51.100.7']), later);
  assert.equal(must(sim.documents(ES, 'ip_intel')[0], "sim.documents(ES, 'ip_intel')[0]").time, later.now / 1000);
});

test('an app that does not exist: the simulator answers 404 as Splunk does, and prepare names the app', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const r = await fetch(
    `${base}/servicesNS/nobody/DA-ESS-ThreatIntel/storage/collections/config/ip_intel?output_mode=json`,
    { headers: { Authorization: `Bearer ${JWT}` } },
  );
  assert.equal(r.status, 404);
  assert.match(JSON.stringify(await r.json()), /Application does not exist: DA-ESS-ThreatIntel/);
  const w = await fetch(`${base}/servicesNS/nobody/no_such_app/storage/collections/config?output_mode=json`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${JWT}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'name=x',
  });
  assert.equal(w.status, 404, 'no collection is created in an app that does not exist');
  assert.ok(!sim.kv.collections.some((c) => c.app === 'no_such_app'));
  await assert.rejects(
    must(
      esSink(base, { app: 'DA-ESS-ThreatIntel' }).prepare,
      "esSink(base, { app: 'DA-ESS-ThreatIntel' }).prepare",
    ).call(esSink(base, { app: 'DA-ESS-ThreatIntel' }), ctx),
    (e: unknown) => {
      assert.ok(e instanceof StixgateError);
      assert.match(e.message, /app DA-ESS-ThreatIntel does not exist/);
      return true;
    },
  );
});
