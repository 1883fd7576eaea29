/**
 * Issue #13, "what is pushed": an indicator whose score is already below `expire_below` when it
 * arrives (a feed row last seen two years ago) is stored expired and never pushed, not even as a
 * removal; and `valid_until` never exceeds the score's own expiry, whatever a source (or a list
 * feed's `valid_days`) gave. The source's own value is kept beside it and counts again once the
 * score's expiry moves past it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { StixObject } from '../../src/core/stix.js';
import type { IngestItem } from '../../src/store/contract.js';
import { mergeObject } from '../../src/store/merge.js';
import { recompute, rescoreStore } from '../../src/store/rescore.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { ScoreExtension } from '../../src/score/model.js';
import { checkSinkMapping } from '../../src/delivery/records.js';
import { runSink } from '../../src/delivery/runner.js';
import { config, FakeSink } from '../delivery/sink-run-kit.js';
import { DAY, HOUR, STANDARD, T0, iso, scoring } from './helpers.js';
import { must } from '../helpers/must.js';
import { offlinePush } from '../helpers/offline-run.js';

const sc = STANDARD();
const ctx = (now: number) => ({ now, seenGranularityMs: HOUR, scoring: sc });
/** 80 halving every 7 days falls below 19.5 (rounds below 20) after this long. */
const LIFE = Math.ceil(7 * Math.log2(80 / 19.5) * DAY);

function ind(value: string, extra: Partial<StixObject> = {}): StixObject {
  const id = `indicator--${value === '203.0.113.9' ? '22222222-2222-4222-8222-222222222222' : '33333333-3333-4333-8333-333333333333'}`;
  return {
    type: 'indicator',
    spec_version: '2.1',
    id,
    created: iso(T0),
    modified: iso(T0),
    pattern: `[ipv4-addr:value = '${value}']`,
    pattern_type: 'stix',
    valid_from: iso(T0),
    ...extra,
  };
}
const item = (object: StixObject, source = 'feed', extra: Partial<IngestItem> = {}): IngestItem => ({
  object,
  source,
  confidence: 80,
  ...extra,
});
const ext = (o: StixObject) => o.x_stixgate as ScoreExtension & { source_valid_until?: string; never_active?: boolean };

test('a row last seen two years ago is stored expired, with valid_until no later than its score allows', () => {
  // a list feed gives valid_until = poll time + valid_days (30)
  const r = mergeObject(
    undefined,
    item(ind('203.0.113.9', { valid_until: iso(T0 + 30 * DAY) }), 'feed', { seenAt: iso(T0 - 730 * DAY) }),
    ctx(T0),
  );
  assert.equal(r.outcome, 'created');
  assert.equal(ext(r.object).expired, true);
  assert.equal(ext(r.object).never_active, true);
  assert.ok(must(ext(r.object).score, 'ext(r.object).score') < 20);
  // the score expired long before valid_from (the poll time): the earliest valid_until STIX allows
  assert.equal(r.object.valid_until, iso(T0 + 1000));
  assert.equal(ext(r.object).source_valid_until, iso(T0 + 30 * DAY));
});

test('valid_until is the earlier of the source value and the score expiry; the source value returns when the score lasts longer', () => {
  const first = mergeObject(undefined, item(ind('203.0.113.9', { valid_until: iso(T0 + 30 * DAY) })), ctx(T0)).object;
  assert.equal(first.valid_until, iso(T0 + LIFE), 'capped at the score expiry (about 14 days)');
  assert.equal(ext(first).derived_valid_until, true);
  assert.equal(ext(first).source_valid_until, iso(T0 + 30 * DAY));
  assert.equal(ext(first).expired, undefined);
  // two more sources giving the same valid_until: 100 halving every 7 days stays above 19.5 for about 16.5 days
  const same = ind('203.0.113.9', { valid_until: iso(T0 + 30 * DAY) });
  let o = mergeObject(first, item(same, 'b', { confidence: 95, seenAt: iso(T0) }), ctx(T0 + HOUR)).object;
  o = mergeObject(o, item(same, 'c', { confidence: 95, seenAt: iso(T0) }), ctx(T0 + HOUR)).object;
  assert.equal(o.valid_until, iso(T0 + Math.ceil(7 * Math.log2(100 / 19.5) * DAY)));
  assert.equal(ext(o).source_valid_until, iso(T0 + 30 * DAY), 'the source value is kept');
  // a configuration whose scores never expire: the re-score puts the source value back
  const back = recompute(o, scoring({ expire_below: 0 }), T0 + DAY).next;
  assert.equal(back.valid_until, iso(T0 + 30 * DAY));
  assert.equal(ext(back).derived_valid_until, undefined);
  assert.equal(ext(back).source_valid_until, undefined);
  // a source value earlier than the score expiry is the valid_until, and nothing is derived
  const early = mergeObject(undefined, item(ind('198.51.100.7', { valid_until: iso(T0 + 3 * DAY) })), ctx(T0)).object;
  assert.equal(early.valid_until, iso(T0 + 3 * DAY));
  assert.equal(ext(early).derived_valid_until, undefined);
  assert.equal(ext(early).source_valid_until, undefined);
});

test('a stale row is never pushed, not even as a removal; listed again fresh, it is pushed; the re-score keeps the cap', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-stale-'));
  const store = await openEmbeddedStore({ dataDir: dir, scoring: sc });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const sink = new FakeSink();
  const push = (now: number) =>
    runSink(
      offlinePush({
        id: 'fake',
        sink,
        config: config(),
        store,
        mapping: checkSinkMapping({ fields: { value: 'value', score: 'score' } }, 'test').fields,
        deadLetter: join(dir, 'dl.jsonl'),
        now: () => now,
      }),
    );
  const vu = iso(T0 + 30 * DAY);
  await store.upsert(
    [
      item(ind('203.0.113.9', { valid_until: vu }), 'feed', { seenAt: iso(T0 - 730 * DAY) }),
      item(ind('198.51.100.7', { valid_until: vu }), 'feed', { seenAt: iso(T0) }),
    ],
    { now: T0 },
  );
  const stats = await store.stats();
  assert.equal(stats.expired, 1);
  const sum = await push(T0);
  assert.deepEqual(
    sink.calls,
    [{ op: 'upsert', keys: ['198.51.100.7'] }],
    'the stale value is neither upserted nor removed',
  );
  assert.equal(sum.removed, 0);
  // the re-score job writes nothing for the capped, fresh one before its expiry and expires it at the cap
  assert.equal((await rescoreStore(store, sc, T0 + 2 * DAY)).expired, 0);
  assert.equal((await rescoreStore(store, sc, T0 + LIFE)).expired, 1);
  await push(T0 + LIFE);
  assert.deepEqual(
    sink.calls.at(-1),
    { op: 'remove', keys: ['198.51.100.7'] },
    'removed at the score expiry, not at the source valid_until',
  );
  // the feed lists the stale value again, seen now: active and pushed
  await store.upsert(
    [item(ind('203.0.113.9', { valid_until: iso(T0 + LIFE + 30 * DAY) }), 'feed', { seenAt: iso(T0 + LIFE) })],
    { now: T0 + LIFE },
  );
  await push(T0 + LIFE);
  assert.deepEqual(sink.calls.at(-1), { op: 'upsert', keys: ['203.0.113.9'] });
  assert.ok(sink.held.has('203.0.113.9'));
});
