/**
 * The acceptance check of scoring: with a fixed clock, an indicator's score follows the documented
 * curve (docs/scoring.md), every move of at least `step` is one change-log entry that a sink
 * turns into an update, and the expiry is an `expire` entry that removes it from the sink.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { detectObservable } from '../../src/core/observable.js';
import type { StixObject } from '../../src/core/stix.js';
import { checkSinkMapping } from '../../src/delivery/records.js';
import { runSink } from '../../src/delivery/runner.js';
import type { Sink, SinkOutcome, SinkRecord } from '../../src/delivery/types.js';
import type { Scoring } from '../../src/score/model.js';
import { rescoreStore } from '../../src/store/rescore.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { DAY, STANDARD, T0, iso, scoring } from './helpers.js';
import { offlinePush } from '../helpers/offline-run.js';
import { commonConfig } from '../helpers/sink-kit.js';

/** A remote system in memory: value → fields. */
class SimulatedSink implements Sink {
  limits = { maxBatch: 100, concurrency: 1 };
  held = new Map<string, Record<string, unknown>>();
  removed: string[] = [];
  async prepare() {}
  async upsert(records: SinkRecord[]): Promise<SinkOutcome[]> {
    for (const r of records) this.held.set(r.observable.value, r.fields);
    return records.map(() => ({ status: 'ok' }));
  }
  async remove(records: SinkRecord[]): Promise<SinkOutcome[]> {
    for (const r of records) {
      this.held.delete(r.observable.value);
      this.removed.push(r.observable.value);
    }
    return records.map(() => ({ status: 'ok' }));
  }
}

const sinkConfig = commonConfig('simulated', {
  timeout_secs: 5,
  retry: { max_attempts: 2, base_delay_secs: 0.001, max_delay_secs: 0.01 },
});

function ind(value: string): StixObject {
  const r = detectObservable(value);
  if (!r.ok) throw new Error(value);
  return indicatorFromObservable(r.observable, { now: iso(T0) });
}

async function setup(t: { after: (fn: () => Promise<void> | void) => void }, sc: Scoring) {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-decay-'));
  const store = await openEmbeddedStore({ dataDir: dir, scoring: sc });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const sink = new SimulatedSink();
  const mapping = checkSinkMapping({ fields: { value: 'value', score: 'score' } }, 'test').fields;
  const metrics = new Metrics({ defaults: false });
  const push = (now: number) =>
    runSink(
      offlinePush({
        id: 'sim',
        sink,
        config: sinkConfig,
        store,
        metrics,
        mapping,
        deadLetter: join(dir, 'dlq.jsonl'),
        now: () => now,
      }),
    );
  return { store, sink, push };
}

test('score follows 80 · 2^(−t/7 d) day by day; each move ≥ step is one upsert entry; the expiry removes it from the sink', async (t) => {
  const { store, sink, push } = await setup(t, STANDARD());
  const ip = ind('198.51.100.7');
  await store.upsert([{ object: ip, source: 'feed', confidence: 80 }], { now: T0 });
  await push(T0);
  assert.equal(sink.held.get('198.51.100.7')?.score, 80);
  const expected = (days: number) => Math.round(80 * 2 ** (-days / 7));
  let last = 80;
  let head = await store.head();
  for (let day = 1; day <= 14; day++) {
    const now = T0 + day * DAY;
    const r = await rescoreStore(store, STANDARD(), now);
    const want = expected(day);
    const moved = Math.abs(want - last) >= 5;
    assert.equal(r.updated, moved ? 1 : 0, `day ${day}: ${last} → ${want}`);
    const h = await store.head();
    assert.equal(h - head, moved ? 1 : 0, `day ${day}: one change-log entry per write`);
    if (moved) {
      const ch = (await store.changes(head, 10)).changes;
      assert.deepEqual(
        ch.map((c) => [c.id, c.op, c.object.x_stixgate?.score]),
        [[ip.id, 'upsert', want]],
      );
      last = want;
    }
    head = h;
    await push(now);
    assert.equal(sink.held.get('198.51.100.7')?.score, last, `day ${day}: the sink holds the stored score`);
  }
  assert.equal(last, 24, 'day 14 scores 20 (two half-lives), within step of the stored 24: no write');
  // the rounded score falls below 20 at 7 · log2(80 / 19.5) days ≈ 14.26 d
  const crossing = T0 + Math.ceil(7 * Math.log2(80 / 19.5) * DAY);
  assert.equal((await store.get(ip.id))?.valid_until, iso(crossing), 'the derived valid_until is the crossing');
  assert.deepEqual(await rescoreStore(store, STANDARD(), crossing - 1), {
    scanned: 1,
    updated: 0,
    expired: 0,
    pages: 1,
    rejected: 0,
  });
  const r = await rescoreStore(store, STANDARD(), crossing);
  assert.equal(r.expired, 1);
  const ch = (await store.changes(head, 10)).changes;
  assert.deepEqual(
    ch.map((c) => [c.op, c.object.x_stixgate?.score, c.object.x_stixgate?.expired]),
    [['expire', 19, true]],
  );
  await push(crossing);
  assert.equal(sink.held.has('198.51.100.7'), false, 'removed from the sink');
  assert.deepEqual(sink.removed, ['198.51.100.7']);
  // an expired indicator is not touched again
  const after = await store.head();
  assert.equal((await rescoreStore(store, STANDARD(), crossing + 30 * DAY)).updated, 0);
  assert.equal(await store.head(), after);
});

test('without the re-score job, store.expire() expires at the derived valid_until', async (t) => {
  const { store, sink, push } = await setup(t, STANDARD());
  const url = ind('http://bad.example/x');
  await store.upsert([{ object: url, source: 'feed', confidence: 60 }], { now: T0 });
  await push(T0);
  assert.ok(sink.held.has('http://bad.example/x'));
  // linear over 30 days: round(60 · (1 − t/30)) < 20 ⇔ t > 30 · (1 − 19.5/60) = 20.25 d
  const crossing = T0 + Math.ceil(30 * (1 - 19.5 / 60) * DAY);
  assert.equal((await store.get(url.id))?.valid_until, iso(crossing));
  assert.equal(await store.expire(crossing - 1), 0);
  assert.equal(await store.expire(crossing), 1);
  await push(crossing);
  assert.equal(sink.held.size, 0);
});

test('the feed listing it again revives an expired indicator at full score', async (t) => {
  const { store, sink, push } = await setup(t, STANDARD());
  const ip = ind('192.0.2.44');
  await store.upsert([{ object: ip, source: 'feed', confidence: 80 }], { now: T0 });
  await rescoreStore(store, STANDARD(), T0 + 20 * DAY);
  assert.equal((await store.get(ip.id))?.x_stixgate?.expired, true);
  await push(T0 + 20 * DAY);
  assert.equal(sink.held.size, 0);
  await store.upsert([{ object: ind('192.0.2.44'), source: 'feed', confidence: 80 }], { now: T0 + 21 * DAY });
  const back = await store.get(ip.id);
  assert.equal(back?.x_stixgate?.expired, undefined);
  assert.equal(back?.x_stixgate?.score, 80);
  await push(T0 + 21 * DAY);
  assert.equal(sink.held.get('192.0.2.44')?.score, 80);
});

test('a sink with min_score removes an indicator once its score decays below it (before expiry)', async (t) => {
  const sc = scoring({
    expire_below: 10,
    step: 1,
    models: { 'ipv4-addr': { curve: 'exponential', half_life_days: 1 } },
  });
  const { store, sink, push } = await setup(t, sc);
  await store.upsert([{ object: ind('203.0.113.5'), source: 'feed', confidence: 80 }], { now: T0 });
  await push(T0);
  assert.ok(sink.held.has('203.0.113.5'));
  await rescoreStore(store, sc, T0 + 2 * DAY); // 20
  const strict = { ...sinkConfig, filters: { ...sinkConfig.filters, min_score: 30 } };
  await runSink(
    offlinePush({
      id: 'strict',
      sink,
      config: strict,
      store,
      metrics: new Metrics({ defaults: false }),
      mapping: checkSinkMapping({ fields: { value: 'value', score: 'score' } }, 'test').fields,
      deadLetter: join(tmpdir(), `dlq-${process.pid}.jsonl`),
      now: () => T0 + 2 * DAY,
    }),
  );
  assert.equal(sink.held.has('203.0.113.5'), false);
});
