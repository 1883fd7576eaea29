import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StixgateError } from '../../src/core/errors.js';
import type { Sink } from '../../src/delivery/types.js';
import { splunkKvSink } from './index.js';
import type { SplunkKvConfig } from './schema.js';
import type { LoggedRequest } from './simulator.js';
import { ictx, kvConfig, ips, JWT, records, runContext, startSim } from './sink-test-kit.js';
import { must } from '../../test/helpers/must.js';

const APP = 'stixgate';
const C = 'ti';

function kvSink(base: string, over: Partial<SplunkKvConfig> = {}): Sink {
  return splunkKvSink.create(kvConfig(base, { app: APP, collection: C, ...over }), ictx);
}

const batchSaves = (sim: { requests: LoggedRequest[] }) => sim.requests.filter((r) => r.path.endsWith('/batch_save'));

test('prepare creates the collection with the mapping table field types and accelerations; repeating it changes nothing', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = kvSink(base);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  const c = sim.collection(APP, C);
  assert.ok(c);
  assert.equal(c.owner, 'nobody');
  assert.equal(c.fields.score, 'number');
  assert.equal(c.fields.valid_until, 'time');
  assert.equal(c.fields.indicator, 'string');
  assert.equal(c.accelerated.indicator, '{"indicator":1}');
  const posts = sim.requests.filter((r) => r.method === 'POST').length;
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  assert.equal(sim.requests.filter((r) => r.method === 'POST').length, posts, 'second prepare posts nothing');
  // a field missing from an existing collection is added
  delete c.fields.score;
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  assert.equal(must(sim.collection(APP, C), 'sim.collection(APP, C)').fields.score, 'number');
});

test('upsert: 2,500 values in batch_save requests of at most 1,000; typed documents keyed by the record key', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = kvSink(base);
  assert.equal(sink.limits.maxBatch, 1000);
  assert.equal(sink.limits.maxBytes, 50 * 1024 * 1024 - 2);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  const recs = records('splunk_kv', ips(2500));
  const sizes = recs.map((r) => must(sink.sizeOf, 'sink.sizeOf').call(sink, r));
  assert.ok(
    sizes.every((s) => s > 100 && s < 1000),
    'sizeOf is the serialised document',
  );
  const out = await sink.upsert(recs, ctx);
  assert.equal(out.length, 2500);
  assert.ok(out.every((o) => o.status === 'ok'));
  const saves = batchSaves(sim);
  assert.deepEqual(
    saves.map((r) => r.status),
    [200, 200, 200],
  );
  assert.equal(sim.documents(APP, C).length, 2500);
  const doc = must(
    sim.documents(APP, C).find((d) => d._key === must(recs[0], 'recs[0]').key),
    'sim.documents(APP, C).find((d) => d._key === recs[0].key)',
  );
  assert.equal(doc.indicator, '10.0.0.1');
  assert.equal(doc.indicator_type, 'ipv4-addr');
  assert.equal(doc.score, 80);
  assert.equal(doc.sources, 'feed_a');
  assert.equal(doc.valid_from, (Date.parse('2026-03-01T12:00:00Z') - 60_000) / 1000, 'time fields are epoch seconds');
});

test('the same key twice is one document; a score change updates it; removal takes it out', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = kvSink(base);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  const [a, b] = records('splunk_kv', ['198.51.100.7', 'evil.example']);
  const again = must(records('splunk_kv', ['198.51.100.7'])[0], "records('splunk_kv', ['198.51.100.7'])[0]");
  assert.equal(again.key, must(a, 'a').key);
  assert.ok((await sink.upsert([must(a, 'a'), must(b, 'b'), again], ctx)).every((o) => o.status === 'ok'));
  assert.equal(sim.documents(APP, C).length, 2);
  const rescored = must(
    records('splunk_kv', ['198.51.100.7'], 'upsert', 35)[0],
    "records('splunk_kv', ['198.51.100.7'], 'upsert', 35)[0]",
  );
  await sink.upsert([rescored], ctx);
  assert.equal(sim.documents(APP, C).length, 2);
  assert.equal(
    must(
      sim.documents(APP, C).find((d) => d._key === must(a, 'a').key),
      'sim.documents(APP, C).find((d) => d._key === a.key)',
    ).score,
    35,
  );
  const gone = records('splunk_kv', ['198.51.100.7', 'never-pushed.example'], 'remove');
  assert.deepEqual(await sink.remove(gone, ctx), [{ status: 'ok' }, { status: 'ok' }]);
  assert.deepEqual(
    sim.documents(APP, C).map((d) => d.indicator),
    ['evil.example'],
  );
});

test('removal deletes by key in chunks of max_keys_per_delete', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = kvSink(base, { max_keys_per_delete: 40 });
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  await sink.upsert(records('splunk_kv', ips(150)), ctx);
  const out = await sink.remove(records('splunk_kv', ips(100), 'remove'), ctx);
  assert.equal(out.filter((o) => o.status === 'ok').length, 100);
  assert.equal(sim.documents(APP, C).length, 50);
  assert.equal(sim.requests.filter((r) => r.method === 'DELETE').length, 3);
});

test('S2: a document the server refuses is isolated by halving; the others are saved; no endless retry', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = kvSink(base, { enforce_types: true });
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  const recs = records('splunk_kv', ips(64));
  recs[37] = { ...must(recs[37], 'recs[37]'), fields: { ...must(recs[37], 'recs[37]').fields, score: 'very high' } };
  const out = await sink.upsert(recs, ctx);
  assert.equal(must(out[37], 'out[37]').status, 'reject');
  assert.match(
    (out[37] as { reason: string }).reason,
    /batch_save refused the document: .*Failed to convert field score/,
  );
  assert.equal(out.filter((o) => o.status === 'ok').length, 63);
  assert.equal(sim.documents(APP, C).length, 63);
  const saves = batchSaves(sim);
  assert.ok(saves.length <= 2 * Math.log2(64) + 1, `${saves.length} requests`);
  assert.equal(saves.filter((r) => r.status === 400).length, 7, 'one refused request per halving level');
});

test('a server limit lower than configured is learnt from the 400 and used', async (t) => {
  const { sim, base } = await startSim(t, { maxDocumentsPerBatchSave: 300 });
  const ctx = runContext(t);
  const sink = kvSink(base);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  const out = await sink.upsert(records('splunk_kv', ips(1000)), ctx);
  assert.ok(out.every((o) => o.status === 'ok'));
  assert.equal(sim.documents(APP, C).length, 1000);
  assert.deepEqual(
    batchSaves(sim).map((r) => r.status),
    [400, 200, 200, 200, 200],
  );
});

test('max_documents_per_batch_save above 1,000: used on Splunk 9.1+, lowered to 1,000 on older servers', async (t) => {
  const { sim: newSim, base: newBase } = await startSim(t, { version: '9.1.2', maxDocumentsPerBatchSave: 50_000 });
  const { sim: oldSim, base: oldBase } = await startSim(t, { version: '9.0.4' });
  const ctx = runContext(t);
  for (const [sim, base, requests] of [
    [newSim, newBase, 1],
    [oldSim, oldBase, 3],
  ] as const) {
    const sink = kvSink(base, { max_documents_per_batch_save: 5000 });
    await must(sink.prepare, 'sink.prepare').call(sink, ctx);
    const out = await sink.upsert(records('splunk_kv', ips(2500)), ctx);
    assert.ok(out.every((o) => o.status === 'ok'));
    assert.equal(batchSaves(sim).length, requests);
    assert.equal(sink.limits.maxBatch, requests === 1 ? 5000 : 1000);
  }
});

test('401 (revoked token, wrong password) throws STIXGATE_ERR_SINK_AUTH', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const bad = kvSink(base, { auth: { username: 'admin', password: 'wrong' } });
  await assert.rejects(
    must(bad.prepare, 'bad.prepare').call(bad, ctx),
    (e: unknown) =>
      e instanceof StixgateError &&
      e.code === 'STIXGATE_ERR_SINK_AUTH' &&
      /401: call not properly authenticated/.test(e.message) &&
      !e.message.includes('wrong'),
  );
  const sink = kvSink(base);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  sim.revoke(JWT);
  await assert.rejects(
    sink.upsert(records('splunk_kv', ['192.0.2.1']), ctx),
    (e: unknown) => e instanceof StixgateError && e.code === 'STIXGATE_ERR_SINK_AUTH',
  );
  await assert.rejects(
    sink.remove(records('splunk_kv', ['192.0.2.1'], 'remove'), ctx),
    (e: unknown) => e instanceof StixgateError && e.code === 'STIXGATE_ERR_SINK_AUTH',
  );
});

test('Bearer, Basic and Splunk-token authentication all work', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const auths: SplunkKvConfig['auth'][] = [
    { bearer_token: JWT },
    { username: 'admin', password: 'changeme' },
    { token: sim.sessionFor('admin') },
  ];
  for (const [i, auth] of auths.entries()) {
    const sink = kvSink(base, { auth });
    await must(sink.prepare, 'sink.prepare').call(sink, ctx);
    assert.ok((await sink.upsert(records('splunk_kv', [`203.0.113.${i + 1}`]), ctx)).every((o) => o.status === 'ok'));
  }
  assert.equal(sim.documents(APP, C).length, 3);
  assert.deepEqual([...new Set(batchSaves(sim).map((r) => r.auth))], ['Bearer', 'Basic', 'Splunk']);
});

test('503 with Retry-After throws a retryable error carrying retryAfterMs; 500 after a partial save, then a resend, converges', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = kvSink(base);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  const recs = records('splunk_kv', ips(20));
  sim.inject({ target: 'kv', status: 503, retryAfter: 7 });
  await assert.rejects(
    sink.upsert(recs, ctx),
    (e: unknown) => e instanceof StixgateError && e.retryable && e.retryAfterMs === 7000,
  );
  sim.inject({ target: 'kv', partialAccept: 5 });
  await assert.rejects(
    sink.upsert(recs, ctx),
    (e: unknown) => e instanceof StixgateError && e.retryable && e.reason === 'status_5xx',
  );
  assert.equal(sim.documents(APP, C).length, 5);
  assert.ok((await sink.upsert(recs, ctx)).every((o) => o.status === 'ok'));
  assert.equal(sim.documents(APP, C).length, 20);
});

test('S4: a connection dropped after the server saved (unknown outcome): the resend gives the same end state', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = kvSink(base);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  const recs = records('splunk_kv', ips(30));
  sim.inject({ target: 'kv', dropAfterHandling: true });
  await assert.rejects(sink.upsert(recs, ctx), (e: unknown) => e instanceof StixgateError && e.retryable);
  const first = JSON.stringify(sim.documents(APP, C));
  assert.ok((await sink.upsert(recs, ctx)).every((o) => o.status === 'ok'));
  assert.equal(JSON.stringify(sim.documents(APP, C)), first);
  sim.inject({ target: 'kv', dropAfterHandling: true });
  await assert.rejects(
    sink.remove(
      recs.slice(0, 10).map((r) => ({ ...r, op: 'remove' as const })),
      ctx,
    ),
  );
  await sink.remove(
    recs.slice(0, 10).map((r) => ({ ...r, op: 'remove' as const })),
    ctx,
  );
  assert.equal(sim.documents(APP, C).length, 20);
});

test('a collection deleted behind the sink: upsert fails with SINK_PROTOCOL; prepare recreates it', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = kvSink(base);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  sim.kv.collections.splice(sim.kv.collections.indexOf(must(sim.collection(APP, C), 'sim.collection(APP, C)')), 1);
  await assert.rejects(
    sink.upsert(records('splunk_kv', ['192.0.2.9']), ctx),
    (e: unknown) =>
      e instanceof StixgateError &&
      e.code === 'STIXGATE_ERR_SINK_PROTOCOL' &&
      /collection ti does not exist/.test(e.message),
  );
  assert.deepEqual(await sink.remove(records('splunk_kv', ['192.0.2.9'], 'remove'), ctx), [{ status: 'ok' }]);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  assert.ok((await sink.upsert(records('splunk_kv', ['192.0.2.9']), ctx)).every((o) => o.status === 'ok'));
  assert.match(
    await must(sink.probe, 'sink.probe').call(sink, ctx),
    /Splunk 9\.0\.0: collection stixgate\/ti holds 1 documents/,
  );
});
