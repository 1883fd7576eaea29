import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { sinkCursorName } from '../../src/delivery/runner.js';
import { DeadLetterFile } from '../../src/delivery/dead-letter.js';
import { batchesOf, recordsForChanges } from '../../src/delivery/select.js';
import { StixgateError } from '../../src/core/errors.js';
import { TLP_MARKING_BY_LEVEL, type StixObject } from '../../src/core/stix.js';
import { NOW, config, ind, iso, setup } from './sink-run-kit.js';
import { must } from '../helpers/must.js';

test('pushes every value once in batches within the limit, then nothing on a second run', async (t) => {
  const { sink, run, put, store } = await setup(t);
  await put(
    [
      '1.2.3.4',
      '5.6.7.8',
      'evil.example',
      'http://x.example/a',
      '9.9.9.9',
      'd41d8cd98f00b204e9800998ecf8427e',
      '10.0.0.0/8',
    ].map((v) => ind(v)),
  );
  const sum = await run();
  assert.equal(sink.prepared, 1);
  assert.equal(sink.held.size, 7);
  assert.ok(
    sink.calls.every((c) => c.keys.length <= 3),
    'batch limit respected',
  );
  assert.equal(sum.upserted, 7);
  assert.equal(sink.held.get('evil.example')?.kind, 'ioc');
  assert.equal(sink.held.get('1.2.3.4')?.tlp, 'amber', 'unmarked, from a source with no tlp: default_tlp');
  assert.equal(typeof sink.held.get('1.2.3.4')?.score, 'number');
  assert.equal(await store.getCursor(sinkCursorName('fake')), String(await store.head()));
  sink.calls.length = 0;
  const again = await run();
  assert.equal(sink.calls.length, 0);
  assert.equal(again.changes, 0);
});

test('revocation and expiry become removals; a value another indicator still holds stays', async (t) => {
  const { sink, run, put, store } = await setup(t);
  const a = ind('1.2.3.4');
  const b = ind('5.6.7.8');
  // a second indicator holding 5.6.7.8 inside a compound pattern
  const both: StixObject = {
    ...ind('9.9.9.9'),
    valid_until: iso(NOW + 60_000),
    id: 'indicator--6a1c4c1e-1ad0-5d2a-9d6c-0f5a2f3c1b11',
    pattern: "[ipv4-addr:value = '5.6.7.8'] OR [ipv4-addr:value = '9.9.9.9']",
  };
  await put([a, b, both]);
  await run();
  assert.deepEqual([...sink.held.keys()].sort(), ['1.2.3.4', '5.6.7.8', '9.9.9.9']);
  const later = iso(NOW);
  await put([
    { ...a, modified: later, revoked: true },
    { ...b, modified: later, revoked: true },
  ]);
  await run();
  assert.deepEqual(
    [...sink.held.keys()].sort(),
    ['5.6.7.8', '9.9.9.9'],
    '1.2.3.4 removed; 5.6.7.8 kept for the compound indicator',
  );
  assert.equal(await store.expire(NOW + 120_000), 1);
  await run({ now: () => NOW + 120_000 });
  assert.deepEqual([...sink.held.keys()], []);
});

test('filters: max TLP, types, labels, sources, min score', async (t) => {
  const { sink, run, put } = await setup(t);
  await put(
    [
      ind('1.1.1.1', { object_marking_refs: [TLP_MARKING_BY_LEVEL.red] }),
      ind('2.2.2.2', { labels: ['scanner'] }),
      ind('3.3.3.3', { labels: ['c2'] }),
      ind('c2.example', { labels: ['c2'] }),
    ],
    'feed',
    70,
    'green',
  );
  await put([ind('4.4.4.4', { labels: ['c2'] })], 'other', 70, 'green');
  await run({
    config: config({
      max_tlp: 'green',
      filters: { types: ['ipv4-addr'], min_score: 0, labels: ['c2'], exclude_labels: [], sources: ['feed'] },
    }),
  });
  assert.deepEqual([...sink.held.keys()], ['3.3.3.3']);
  assert.ok(!sink.calls.some((c) => c.op === 'upsert' && c.keys.includes('1.1.1.1')), 'red never pushed');
});

test('min_score: indicators scoring below the threshold are not pushed', async (t) => {
  const { sink, run, put } = await setup(t);
  await put([ind('1.2.3.4')], 'feed', 90);
  await put([ind('5.6.7.8')], 'feed', 20);
  await run({ config: config({ filters: { types: [], min_score: 50, labels: [], exclude_labels: [], sources: [] } }) });
  assert.deepEqual([...sink.held.keys()], ['1.2.3.4']);
});

test('retryable failures are retried (Retry-After honoured), per-item retries resent, rejects dead-lettered', async (t) => {
  const { sink, run, put, dlq, metrics } = await setup(t);
  await put(['1.1.1.1', '2.2.2.2', '3.3.3.3'].map((v) => ind(v)));
  const waits: number[] = [];
  let last = Date.now();
  sink.script.push(
    () =>
      new StixgateError('STIXGATE_ERR_HTTP_STATUS', 'busy', {
        reason: 'status_429',
        retryable: true,
        retryAfterMs: 200,
      }),
  );
  sink.script.push(() => {
    waits.push(Date.now() - last);
    return [{ status: 'ok' }, { status: 'retry', reason: 'unacked' }, { status: 'reject', reason: 'invalid value' }];
  });
  sink.script.push((recs) => recs.map(() => ({ status: 'ok' as const })));
  last = Date.now();
  const sum = await run();
  assert.ok(must(waits[0], 'waits[0]') >= 190, `waited ${waits[0]} ms for Retry-After 200 ms`);
  assert.equal(sum.rejected, 1);
  assert.deepEqual([...sink.held.keys()].sort(), ['1.1.1.1', '2.2.2.2']);
  assert.deepEqual(
    sink.calls.map((c) => c.keys.length),
    [3, 3, 1],
  );
  const lines = readFileSync(dlq.path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].value, '3.3.3.3');
  assert.equal(lines[0].reason, 'invalid value');
  assert.equal(lines[0].sink, 'fake');
  const text = await metrics.registry.metrics();
  assert.match(text, /stixgate_sink_rejected_total\{sink="fake"\} 1/);
  assert.match(text, /stixgate_sink_retried_total\{sink="fake",reason="status_429"\} 1/);
});

test('a whole-batch 400 is bisected: the bad record dead-lettered, the others delivered (S2)', async (t) => {
  const { sink, run, put, dlq } = await setup(t);
  sink.limits.maxBatch = 8;
  const values = Array.from({ length: 7 }, (_, i) => `10.1.1.${i + 1}`);
  await put(values.map((v) => ind(v)));
  const bad = '10.1.1.5';
  for (let i = 0; i < 20; i++) {
    sink.script.push((recs) =>
      recs.some((r) => r.observable.value === bad)
        ? new StixgateError('STIXGATE_ERR_HTTP_STATUS', 'POST x: status 400 (status_4xx)', { reason: 'status_4xx' })
        : undefined,
    );
  }
  const sum = await run();
  assert.equal(sum.rejected, 1);
  assert.deepEqual([...sink.held.keys()].sort(), values.filter((v) => v !== bad).sort());
  assert.ok(sink.calls.length <= 1 + 2 * Math.ceil(Math.log2(7)) + 1, `${sink.calls.length} requests`);
  assert.equal(JSON.parse(readFileSync(dlq.path, 'utf8').trim()).value, bad);
});

test('issue 18: dead-letter rotations are counted and the bytes of a deleted oldest file reported (metrics)', async (t) => {
  const { sink, run, put, dlq, metrics } = await setup(t);
  const tiny = new DeadLetterFile(join(dlq.path, '..', 'tiny.jsonl'), { maxBytes: 1, keep: 1 });
  const values = ['10.2.2.1', '10.2.2.2', '10.2.2.3'];
  await put(values.map((v) => ind(v)));
  sink.script.push((recs) => recs.map(() => ({ status: 'reject' as const, reason: 'invalid value' })));
  // one rejected batch: one write, into an empty file (no rotation)
  assert.equal((await run({ deadLetter: tiny })).rejected, 3);
  assert.equal(tiny.rotations, 0);
  await put(values.map((v) => ind(v, { labels: ['changed'] })));
  sink.script.push((recs) => recs.map(() => ({ status: 'reject' as const, reason: 'invalid value' })));
  await run({ deadLetter: tiny }); // rotates: the first file becomes .1
  await put(values.map((v) => ind(v, { labels: ['changed again'] })));
  sink.script.push((recs) => recs.map(() => ({ status: 'reject' as const, reason: 'invalid value' })));
  await run({ deadLetter: tiny }); // rotates again: .1 (the first batch) is deleted
  assert.equal(tiny.rotations, 2);
  assert.ok(tiny.droppedBytes > 0);
  const text = await metrics.registry.metrics();
  assert.match(text, /stixgate_sink_rejected_total\{sink="fake"\} 9\n/);
  assert.match(text, /stixgate_sink_dead_letter_rotations_total\{sink="fake"\} 2\n/);
  assert.match(
    text,
    new RegExp(`stixgate_sink_dead_letter_dropped_bytes_total\\{sink="fake"\\} ${tiny.droppedBytes}\n`),
  );
});

test('401/403 pauses the sink: run fails, cursor kept, nothing dead-lettered, metric set (S3)', async (t) => {
  const { sink, run, put, store, dlq, metrics } = await setup(t);
  await put([ind('1.2.3.4')]);
  sink.script.push(() => new StixgateError('STIXGATE_ERR_SINK_AUTH', 'fake: 401', { reason: 'auth' }));
  await assert.rejects(run(), (e: StixgateError) => e.code === 'STIXGATE_ERR_SINK_AUTH');
  assert.equal(await store.getCursor(sinkCursorName('fake')), undefined);
  assert.ok(!existsSync(dlq.path));
  assert.match(await metrics.registry.metrics(), /stixgate_sink_paused\{sink="fake"\} 1/);
  await run();
  assert.equal(sink.held.size, 1, 'delivered once the credentials work again');
  assert.match(await metrics.registry.metrics(), /stixgate_sink_paused\{sink="fake"\} 0/);
});

test('retries exhausted: the run fails and the next run resends from the last acknowledged batch', async (t) => {
  const { sink, run, put, store } = await setup(t);
  await put(Array.from({ length: 9 }, (_, i) => ind(`10.2.0.${i + 1}`)));
  sink.script.push(() => undefined); // first batch ok
  for (let i = 0; i < 4; i++)
    sink.script.push(
      () => new StixgateError('STIXGATE_ERR_HTTP_TIMEOUT', 'timeout', { reason: 'timeout_total', retryable: true }),
    );
  await assert.rejects(run(), /timeout/);
  assert.equal(sink.held.size, 3);
  const cursor = Number(await store.getCursor(sinkCursorName('fake')));
  assert.ok(cursor > 0 && cursor < (await store.head()), `cursor ${cursor} after the first batch only`);
  sink.calls.length = 0;
  await run();
  assert.equal(sink.held.size, 9);
  assert.equal(sink.calls.flatMap((c) => c.keys).length, 6, 'only the unacknowledged batches are sent again');
});

test('Retry-After longer than a run may wait ends the run with the delay for the scheduler', async (t) => {
  const { sink, run, put } = await setup(t);
  await put([ind('1.2.3.4')]);
  sink.script.push(
    () =>
      new StixgateError('STIXGATE_ERR_HTTP_STATUS', 'busy', {
        reason: 'status_429',
        retryable: true,
        retryAfterMs: 600_000,
      }),
  );
  await assert.rejects(run({ maxRetryAfterMs: 1000 }), (e: StixgateError) => e.retryAfterMs === 600_000);
  assert.equal(sink.calls.length, 1);
});

test('dry run sends nothing and commits nothing; --full resends everything active', async (t) => {
  const { sink, run, put, store } = await setup(t);
  await put(['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4'].map((v) => ind(v)));
  const dry = await run({ dryRun: true });
  assert.equal(sink.calls.length, 0);
  assert.equal(sink.prepared, 0);
  assert.equal(dry.planned?.upsert, 2);
  assert.equal(dry.planned?.samples.length, 4);
  assert.equal(await store.getCursor(sinkCursorName('fake')), undefined);
  await run();
  sink.held.clear(); // the remote side lost its data
  sink.calls.length = 0;
  await run();
  assert.equal(sink.held.size, 0, 'incremental run has nothing new');
  const full = await run({ full: true });
  assert.equal(full.upserted, 4);
  assert.equal(sink.held.size, 4);
});

test('publish check withholds warninglisted values and removes them when they were pushed', async (t) => {
  const { sink, run, put, metrics } = await setup(t);
  await put([ind('8.8.8.8'), ind('1.2.3.4')]);
  await run();
  assert.equal(sink.held.size, 2);
  await put([{ ...ind('8.8.8.8'), labels: ['dns'] }]);
  await run({
    publish: (o) => (o.value === '8.8.8.8' ? { publish: false, lists: ['public-dns'] } : { publish: true, lists: [] }),
  });
  assert.deepEqual([...sink.held.keys()], ['1.2.3.4']);
  assert.match(await metrics.registry.metrics(), /stixgate_publish_filtered_total\{list="public-dns"\} 1/);
});

test('records collapse per key to the latest state; batches cut by op, count and bytes', () => {
  const mapping = { v: 'value' };
  const a: StixObject = {
    ...ind('1.2.3.4'),
    x_stixgate: { sources: { feed: { first_seen: iso(NOW), last_seen: iso(NOW), tlp: 'clear' } } },
  };
  const changes = [
    { seq: 1, id: a.id, type: 'indicator', op: 'upsert' as const, object: a },
    { seq: 2, id: a.id, type: 'indicator', op: 'revoke' as const, object: { ...a, revoked: true } },
  ];
  const recs = recordsForChanges(changes, config(), mapping, NOW);
  assert.equal(recs.length, 1);
  assert.equal(must(recs[0], 'recs[0]').op, 'remove');
  assert.equal(must(recs[0], 'recs[0]').seq, 2);
  const many = Array.from({ length: 5 }, (_, i) => ({
    ...must(recs[0], 'recs[0]'),
    op: i < 3 ? ('upsert' as const) : ('remove' as const),
    key: String(i),
  }));
  assert.deepEqual(
    batchesOf(must(many, 'many'), 2).map((b) => b.length),
    [2, 1, 2],
  );
  assert.deepEqual(
    batchesOf(must(many, 'many'), 10, 25, () => 10).map((b) => b.length),
    [2, 1, 2],
  );
});

test('a slow sink (S6): the runner reads ahead a bounded amount, and ingest goes on meanwhile', async (t) => {
  const { sink, run, put, store } = await setup(t);
  sink.limits = { maxBatch: 10, concurrency: 1 };
  await put(Array.from({ length: 3000 }, (_, i) => ind(`10.30.${i >> 8}.${i & 255}`)));
  let read = 0;
  let reading = 0;
  const changes = store.changes.bind(store);
  store.changes = async (after, limit) => {
    reading++;
    const page = await changes(after, limit).finally(() => reading--);
    read += page.changes.length;
    return page;
  };
  for (let i = 0; i < 100; i++) sink.script.push(() => undefined);
  // the sink takes its first batch and never answers until the test lets it
  const slow = sink.upsert.bind(sink);
  let release: () => void = () => undefined;
  const answered = new Promise<void>((resolve) => {
    release = resolve;
  });
  let stuck: () => void = () => undefined;
  const firstBatch = new Promise<void>((resolve) => {
    stuck = resolve;
  });
  sink.upsert = async (records) => {
    stuck();
    await answered;
    return slow(records);
  };
  const ac = new AbortController();
  const pushing = run({ signal: ac.signal }).catch((e: Error) => e);
  await firstBatch;
  // ingest of 5,000 more objects while the sink is stuck: it completes (it never waits for a sink)
  await put(Array.from({ length: 5000 }, (_, i) => ind(`10.31.${i >> 8}.${i & 255}`)));
  // the runner reads ahead until its queue is full, then reads no more: wait until no read is in
  // flight and none starts for 100 turns of the event loop (counted in turns, not milliseconds)
  for (let idle = 0; idle < 100; ) {
    const before = read;
    await new Promise((r) => setImmediate(r));
    idle = reading === 0 && read === before ? idle + 1 : 0;
  }
  ac.abort();
  release();
  const outcome = await pushing;
  assert.ok(outcome instanceof Error, 'the aborted run reports it');
  assert.ok(sink.held.size <= 80, `only a few batches delivered (${sink.held.size})`);
  assert.ok(read <= 2000, `read ahead ${read} changes of 8,000 (one page plus the queue), not the whole log`);
  assert.equal(
    Number(await store.getCursor(sinkCursorName('fake'))) <= 80,
    true,
    'cursor only past what was delivered',
  );
});

test('N10: a sink down while 200 objects change 20 times each: its backlog stays one entry per object (bounded by the store, nothing dropped); after recovery each value is delivered once, in its latest state', async (t) => {
  const { sink, run, put, store, dlq } = await setup(t);
  const values = Array.from({ length: 200 }, (_, i) => `10.9.${i >> 8}.${i & 255}`);
  await put(values.map((v) => ind(v)));
  sink.script.push(() => new StixgateError('STIXGATE_ERR_SINK_AUTH', 'fake: 401', { reason: 'auth' }));
  await assert.rejects(run(), (e: StixgateError) => e.code === 'STIXGATE_ERR_SINK_AUTH');
  const cursor = Number((await store.getCursor(sinkCursorName('fake'))) ?? 0);
  const headBefore = await store.head();
  for (let round = 1; round <= 20; round++) {
    await put(values.map((v) => ind(v, { modified: iso(NOW - 1000 + round), description: `round ${round}` })));
  }
  assert.ok((await store.head()) - headBefore >= 20 * 200, '4,000 changes were made while the sink was down');
  const backlog = await store.changes(cursor, 100_000);
  assert.equal(backlog.changes.length, 200, 'the backlog holds each object once, at its latest state');
  assert.ok(backlog.changes.every((c) => c.object.description === 'round 20'));
  sink.calls.length = 0;
  const sum = await run();
  assert.equal(sum.upserted, 200);
  assert.deepEqual(sink.calls.flatMap((c) => c.keys).sort(), [...values].sort(), 'each value once');
  assert.equal(sink.held.size, 200);
  assert.ok(!existsSync(dlq.path), 'nothing dead-lettered, nothing dropped');
  assert.equal(await store.getCursor(sinkCursorName('fake')), String(await store.head()));
});
