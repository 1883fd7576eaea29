import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StixgateError } from '../../src/core/errors.js';
import type { Sink } from '../../src/delivery/types.js';
import { splunkHecSink } from './index.js';
import type { SplunkHecConfig } from './schema.js';
import { eventId } from './sink-hec.js';
import type { LoggedRequest } from './simulator.js';
import { commonConfig, HEC_ACK_TOKEN, HEC_TOKEN, ictx, ips, records, runContext, startSim } from './sink-test-kit.js';
import { must } from '../../test/helpers/must.js';

function hecSink(base: string, over: Partial<SplunkHecConfig> = {}): Sink {
  const cfg: SplunkHecConfig = {
    url: base,
    token: HEC_TOKEN,
    index: 'threat_intel',
    sourcetype: 'stixgate:indicator',
    source: 'stixgate',
    use_ack: false,
    ack_timeout_secs: 2,
    ack_poll_interval_ms: 10,
    max_events_per_request: 5000,
    max_request_bytes: 100 << 20,
    max_event_bytes: 5 << 20,
    ...over,
  };
  return splunkHecSink.create({ ...commonConfig('splunk_hec'), ...cfg }, ictx);
}

type Ev = { action: string; event_id: string; key: string; indicator: string; score?: number; reason?: string };
const posts = (sim: { requests: LoggedRequest[] }) =>
  sim.requests.filter((r) => r.path === '/services/collector/event');

test('events: stacked JSON within max_events_per_request, Splunk token, index/sourcetype/source, deterministic ids, indexed fields', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = hecSink(base, { max_events_per_request: 100 });
  assert.equal(sink.limits.maxBatch, 100);
  const recs = records('splunk_hec', ips(250));
  const out = await sink.upsert(recs, ctx);
  assert.ok(out.every((o) => o.status === 'ok'));
  assert.deepEqual(
    posts(sim).map((r) => [r.status, r.auth]),
    [
      [200, 'Splunk'],
      [200, 'Splunk'],
      [200, 'Splunk'],
    ],
  );
  const evs = sim.events();
  assert.equal(evs.length, 250);
  const e = must(evs[0], 'evs[0]');
  assert.equal(e.index, 'threat_intel');
  assert.equal(e.sourcetype, 'stixgate:indicator');
  assert.equal(e.source, 'stixgate');
  assert.equal(e.time, Date.parse('2026-03-01T12:00:00Z') / 1000);
  assert.deepEqual(e.fields, { indicator: '10.0.0.1', indicator_type: 'ipv4-addr' });
  const body = e.event as Ev;
  assert.equal(body.action, 'upsert');
  assert.equal(body.key, must(recs[0], 'recs[0]').key);
  assert.equal(body.event_id, eventId(must(recs[0], 'recs[0]')));
  assert.equal(body.indicator, '10.0.0.1');
  assert.equal(body.score, 80);
  assert.equal(new Set(evs.map((x) => (x.event as Ev).event_id)).size, 250);
  // sizeOf bounds the bytes each event adds to a request (the time member is reserved at its widest)
  const sized = recs.slice(0, 100).reduce((n, r) => n + must(sink.sizeOf, 'sink.sizeOf').call(sink, r), 0);
  const sent = must(posts(sim)[0], 'posts(sim)[0]').bytes;
  assert.ok(sent <= sized && sent >= sized - 4 * 100, `${sent} bytes sent, ${sized} sized`);
});

test('a resent record carries the same event_id; a score change or removal is a new event (removal: action remove + reason)', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = hecSink(base);
  const [a] = records('splunk_hec', ['198.51.100.7'], 'upsert', 80, 5);
  await sink.upsert([must(a, 'a')], ctx);
  await sink.upsert([must(a, 'a')], ctx);
  const [rescored] = records('splunk_hec', ['198.51.100.7'], 'upsert', 20, 6);
  await sink.upsert([must(rescored, 'rescored')], ctx);
  const [gone] = records('splunk_hec', ['198.51.100.7'], 'remove', 20, 7);
  assert.deepEqual(await sink.remove([must(gone, 'gone')], ctx), [{ status: 'ok' }]);
  const evs = sim.events().map((x) => x.event as Ev);
  assert.equal(evs.length, 4);
  assert.equal(must(evs[0], 'evs[0]').event_id, must(evs[1], 'evs[1]').event_id, 'duplicates are recognisable');
  assert.notEqual(must(evs[2], 'evs[2]').event_id, must(evs[0], 'evs[0]').event_id);
  assert.equal(must(evs[2], 'evs[2]').score, 20);
  assert.deepEqual(
    [must(evs[3], 'evs[3]').action, must(evs[3], 'evs[3]').reason, must(evs[3], 'evs[3]').key],
    ['remove', 'revoked', must(a, 'a').key],
  );
});

test('S1: indexer ack held → retry outcomes after the ack TTL (unacked gauge), delivered once acks flow again', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = hecSink(base, {
    token: HEC_ACK_TOKEN,
    index: undefined,
    use_ack: true,
    ack_timeout_secs: 0.15,
    max_events_per_request: 40,
  });
  const recs = records('splunk_hec', ips(100));
  sim.hec.holdAcks = true;
  const out = await sink.upsert(recs, ctx);
  assert.equal(out.length, 100);
  assert.ok(
    out.every((o) => o.status === 'retry' && /not acknowledged by the indexers within 0.15 s/.test(o.reason)),
    JSON.stringify(out[0]),
  );
  assert.equal(Math.max(...ctx.gauges), 100);
  assert.equal(ctx.gauges.at(-1), 0);
  const acks = sim.requests.filter((r) => r.path === '/services/collector/ack');
  // at least once whatever the host's speed (the sink polls once more after a deadline that passed
  // before its first poll); how many more depends on the clock
  assert.ok(acks.length >= 1, 'acks were polled');
  assert.ok(
    sim.requests.every((r) => r.channel && /^[0-9a-f-]{36}$/.test(r.channel)),
    'every request names the channel',
  );
  sim.hec.holdAcks = false;
  const again = await sink.upsert(recs, ctx);
  assert.ok(again.every((o) => o.status === 'ok'));
  // the resend duplicates the events, with the same ids
  assert.equal(sim.events().length, 200);
  assert.equal(new Set(sim.events().map((e) => (e.event as Ev).event_id)).size, 100);
});

test('acks released while the sink waits: ok outcomes, no resend', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = hecSink(base, {
    token: HEC_ACK_TOKEN,
    index: undefined,
    use_ack: true,
    ack_timeout_secs: 600,
    ack_poll_interval_ms: 5,
  });
  sim.hec.holdAcks = true;
  // the indexers acknowledge after the sink's first query has been answered "not yet"
  sim.hec.onAckQuery = (n) => {
    if (n === 1) sim.hec.releaseAcks();
  };
  const out = await sink.upsert(records('splunk_hec', ips(30)), ctx);
  assert.ok(out.every((o) => o.status === 'ok'));
  assert.equal(sim.hec.ackQueries, 2, 'one query answered "not yet", one answered "indexed"');
  assert.equal(posts(sim).length, 1);
  assert.equal(sim.events().length, 30);
});

test('a deadline that passed before the first ack poll (a loaded host): one poll still finds the acks, no resend', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = hecSink(base, { token: HEC_ACK_TOKEN, index: undefined, use_ack: true, ack_timeout_secs: 0.15 });
  // every reading of the clock is a second later than the one before: the 0.15 s deadline has
  // passed by the first check, as when the host stalls between the send and the first poll
  let clock = performance.now();
  t.mock.method(performance, 'now', () => {
    clock += 1000;
    return clock;
  });
  const out = await sink.upsert(records('splunk_hec', ips(10)), ctx);
  t.mock.restoreAll();
  assert.deepEqual(
    out.map((o) => o.status),
    Array(10).fill('ok'),
  );
  assert.equal(
    sim.requests.filter((r) => r.path === '/services/collector/ack').length,
    1,
    'exactly one poll, after the deadline',
  );
  assert.equal(sim.events().length, 10);
});

test('400 code 6 invalid-event-number: that event is rejected, the rest resent and delivered', async (t) => {
  const { sim, base } = await startSim(t, { maxEventSize: 2000 });
  const ctx = runContext(t);
  const sink = hecSink(base);
  const recs = records('splunk_hec', ips(10));
  recs[6] = {
    ...must(recs[6], 'recs[6]'),
    fields: { ...must(recs[6], 'recs[6]').fields, description: 'x'.repeat(3000) },
  };
  const out = await sink.upsert(recs, ctx);
  assert.equal(must(out[6], 'out[6]').status, 'reject');
  assert.match((out[6] as { reason: string }).reason, /code 6: Invalid data format/);
  assert.equal(out.filter((o) => o.status === 'ok').length, 9);
  assert.deepEqual(
    posts(sim).map((r) => r.status),
    [400, 200],
  );
  const ids = new Set(sim.events().map((e) => (e.event as Ev).event_id));
  assert.equal(ids.size, 9);
  assert.ok(!ids.has(eventId(must(recs[6], 'recs[6]'))));
});

test('an event above max_event_bytes is rejected before sending', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = hecSink(base, { max_event_bytes: 1000 });
  const recs = records('splunk_hec', ips(3));
  recs[1] = {
    ...must(recs[1], 'recs[1]'),
    fields: { ...must(recs[1], 'recs[1]').fields, description: 'y'.repeat(2000) },
  };
  const out = await sink.upsert(recs, ctx);
  assert.deepEqual(
    out.map((o) => o.status),
    ['ok', 'reject', 'ok'],
  );
  assert.match((out[1] as { reason: string }).reason, /exceeds max_event_bytes \(1000\)/);
  assert.equal(posts(sim).length, 1);
});

test('auth: revoked or unknown token → SINK_AUTH; index the token may not write → CONFIG_INVALID', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const isAuth = (e: unknown) =>
    e instanceof StixgateError && e.code === 'STIXGATE_ERR_SINK_AUTH' && !e.message.includes(HEC_TOKEN);
  await assert.rejects(hecSink(base, { token: 'nope' }).upsert(records('splunk_hec', ['192.0.2.1']), ctx), isAuth);
  await assert.rejects(
    hecSink(base, { index: 'main' }).upsert(records('splunk_hec', ['192.0.2.1']), ctx),
    (e: unknown) =>
      e instanceof StixgateError && e.code === 'STIXGATE_ERR_CONFIG_INVALID' && /index main/.test(e.message),
  );
  sim.revoke(HEC_TOKEN);
  await assert.rejects(hecSink(base).remove(records('splunk_hec', ['192.0.2.1'], 'remove'), ctx), isAuth);
});

test('503 code 9 with Retry-After → retryable with retryAfterMs; partial accept then resend; dropped connection then resend', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const sink = hecSink(base);
  const recs = records('splunk_hec', ips(20));
  sim.inject({ target: 'hec', status: 503, retryAfter: 4 });
  await assert.rejects(
    sink.upsert(recs, ctx),
    (e: unknown) => e instanceof StixgateError && e.retryable && e.retryAfterMs === 4000,
  );
  sim.inject({ target: 'hec', partialAccept: 8 });
  await assert.rejects(sink.upsert(recs, ctx), (e: unknown) => e instanceof StixgateError && e.retryable);
  sim.inject({ target: 'hec', dropAfterHandling: true });
  await assert.rejects(sink.upsert(recs, ctx), (e: unknown) => e instanceof StixgateError && e.retryable);
  assert.ok((await sink.upsert(recs, ctx)).every((o) => o.status === 'ok'));
  // at-least-once: 8 + 20 + 20 events, the same 20 ids
  assert.equal(sim.events().length, 48);
  assert.equal(new Set(sim.events().map((e) => (e.event as Ev).event_id)).size, 20);
});

test('probe reports HEC health', async (t) => {
  const { base } = await startSim(t);
  assert.equal(
    await must(hecSink(base).probe, 'hecSink(base).probe').call(hecSink(base), runContext(t)),
    'HEC 200: HEC is healthy',
  );
  // a URL given with the collector path works the same
  assert.equal(
    await must(
      hecSink(`${base}/services/collector/event`).probe,
      'hecSink(`${base}/services/collector/event`).probe',
    ).call(hecSink(`${base}/services/collector/event`), runContext(t)),
    'HEC 200: HEC is healthy',
  );
});
