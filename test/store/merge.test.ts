import assert from 'node:assert/strict';
import { it } from 'node:test';
import { mergeObject, resultJson, storedJson } from '../../src/store/merge.js';
import { scoreFromSources } from '../../src/store/score.js';
import { DAY, HOUR, T0, clone, indicatorFor } from './fixtures.js';

const ctx = { now: T0, seenGranularityMs: HOUR };

it('mergeObject is pure and its outcomes follow the policy', () => {
  const obj = indicatorFor(1, { validUntil: T0 + DAY });
  const input = clone(obj);
  const created = mergeObject(undefined, { object: input, source: 's', tlp: 'amber', confidence: 30 }, ctx);
  assert.deepEqual(input, obj, 'input not mutated');
  assert.equal(created.outcome, 'created');
  assert.equal(created.object.object_marking_refs, undefined, "no merged marking: the TLP is the contribution's");
  assert.deepEqual(created.object.x_stixgate, {
    sources: {
      s: {
        first_seen: new Date(T0).toISOString(),
        last_seen: new Date(T0).toISOString(),
        confidence: 30,
        tlp: 'amber',
      },
    },
    content_sources: ['s'],
    score: 30,
  });
  const frozen = storedJson(created.object);
  const same = mergeObject(
    created.object,
    { object: clone(obj), source: 's', tlp: 'amber', confidence: 30, seenAt: new Date(T0 + 59 * 60_000).toISOString() },
    ctx,
  );
  assert.equal(same.outcome, 'unchanged');
  assert.equal(storedJson(created.object), frozen, 'existing not mutated');
  const older = mergeObject(
    created.object,
    { object: indicatorFor(1, { modified: T0 - DAY, validUntil: T0 }), source: 's', tlp: 'amber', confidence: 30 },
    ctx,
  );
  assert.equal(
    older.outcome,
    'updated',
    'an older version with an earlier created moves created (and valid_from) only',
  );
  assert.equal(older.object.created, new Date(T0 - DAY).toISOString());
  assert.equal(older.object.modified, new Date(T0).toISOString());
  assert.equal(older.object.valid_until, new Date(T0 + DAY).toISOString());
  const stale = mergeObject(
    created.object,
    {
      object: {
        ...indicatorFor(1, { modified: T0 - DAY, validUntil: T0 + DAY }),
        created: obj.created,
        valid_from: obj.valid_from,
        name: 'x',
      },
      source: 's',
      tlp: 'amber',
      confidence: 30,
    },
    ctx,
  );
  assert.equal(stale.outcome, 'stale');
  assert.equal(stale.object, created.object);
});

it('an update carries the stored JSON the merge computed for its comparison, so the store does not serialise the object again', () => {
  const created = mergeObject(
    undefined,
    { object: indicatorFor(1, { validUntil: T0 + DAY }), source: 's', tlp: 'amber', confidence: 30 },
    ctx,
  );
  assert.equal(created.json, undefined, 'a creation is serialised once, by the store');
  assert.equal(resultJson(created), storedJson(created.object));
  // a second source: same content, new provenance
  const second = mergeObject(
    created.object,
    { object: indicatorFor(1, { validUntil: T0 + DAY }), source: 't', tlp: 'green', confidence: 60 },
    ctx,
  );
  assert.equal(second.outcome, 'updated');
  assert.equal(second.json, storedJson(second.object));
  // a newer version, merged later (the score is brought to the later time: the object is rebuilt)
  const later = { ...ctx, now: T0 + 3 * DAY };
  const newer = mergeObject(
    second.object,
    {
      object: { ...indicatorFor(1, { modified: T0 + DAY, validUntil: T0 + 9 * DAY }), name: 'renamed' },
      source: 's',
      tlp: 'amber',
      confidence: 30,
    },
    later,
  );
  assert.equal(newer.outcome, 'updated');
  assert.equal(
    resultJson(newer),
    storedJson(newer.object),
    "whatever path the merge took, the JSON stored is the object's",
  );
});

it('scores: max confidence (default 50) plus 10 per extra source, capped at 100', () => {
  const p = (confidence?: number) => ({
    first_seen: 'x',
    last_seen: 'x',
    ...(confidence === undefined ? {} : { confidence }),
  });
  assert.equal(scoreFromSources({}), 0);
  assert.equal(scoreFromSources({ a: p() }), 50);
  assert.equal(scoreFromSources({ a: p(20), b: p() }), 30);
  assert.equal(scoreFromSources({ a: p(20), b: p(75), c: p() }), 95);
  assert.equal(scoreFromSources({ a: p(95), b: p(10) }), 100);
});

it('a re-poll that only moves created/modified/valid_from forward is unchanged, and valid_from stays the earliest', () => {
  const first = mergeObject(
    undefined,
    { object: indicatorFor(7, { modified: T0 }), source: 'list' },
    { now: T0, seenGranularityMs: HOUR },
  );
  const later = indicatorFor(7, { modified: T0 + 10 * 60_000 });
  assert.notEqual(later.valid_from, first.object.valid_from);
  const again = mergeObject(
    first.object,
    { object: later, source: 'list' },
    { now: T0 + 10 * 60_000, seenGranularityMs: HOUR },
  );
  assert.equal(again.outcome, 'unchanged');
  // delivered out of order, the earlier valid_from wins and the end state is the same
  const a = mergeObject(undefined, { object: later, source: 'list' }, { now: T0, seenGranularityMs: HOUR });
  const b = mergeObject(
    a.object,
    { object: indicatorFor(7, { modified: T0 }), source: 'list' },
    { now: T0, seenGranularityMs: HOUR },
  );
  assert.equal(b.object.valid_from, new Date(T0).toISOString());
});
