import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { StixObject } from '../../src/core/stix.js';
import type { IngestItem } from '../../src/store/contract.js';
import { mergeObject, storedJson } from '../../src/store/merge.js';
import type { ScoreExtension } from '../../src/score/model.js';
import { DAY, HOUR, STANDARD, T0, iso } from './helpers.js';
import { must } from '../helpers/must.js';

const sc = STANDARD();
const ctx = (now: number) => ({ now, seenGranularityMs: HOUR, scoring: sc });

function ind(extra: Partial<StixObject> = {}): StixObject {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: 'indicator--22222222-2222-4222-8222-222222222222',
    created: iso(T0),
    modified: iso(T0),
    pattern: "[ipv4-addr:value = '203.0.113.9']",
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
const ext = (o: StixObject) => o.x_stixgate as ScoreExtension;

it('a new indicator: score at now, scored_at, and a valid_until derived from the decay', () => {
  const r = mergeObject(undefined, item(ind()), ctx(T0));
  assert.equal(r.outcome, 'created');
  assert.equal(ext(r.object).score, 80);
  assert.equal(ext(r.object).scored_at, iso(T0));
  assert.equal(ext(r.object).derived_valid_until, true);
  assert.equal(r.object.valid_until, iso(T0 + Math.ceil(7 * Math.log2(80 / 19.5) * DAY)));
  // a source's own valid_until is kept when the score lasts longer, nothing derived
  const own = mergeObject(undefined, item(ind({ valid_until: iso(T0 + 10 * DAY) })), ctx(T0));
  assert.equal(own.object.valid_until, iso(T0 + 10 * DAY));
  assert.equal(ext(own.object).derived_valid_until, undefined);
  // a later one never outlives the score (issue #13): capped, the source value kept beside it
  const later = mergeObject(undefined, item(ind({ valid_until: iso(T0 + 30 * DAY) })), ctx(T0));
  assert.equal(later.object.valid_until, iso(T0 + Math.ceil(7 * Math.log2(80 / 19.5) * DAY)));
  assert.equal(ext(later.object).derived_valid_until, true);
  assert.equal((ext(later.object) as { source_valid_until?: string }).source_valid_until, iso(T0 + 30 * DAY));
});

it('time alone is no write; a change is scored at now; a re-poll after a day refreshes the age', () => {
  const first = mergeObject(undefined, item(ind()), ctx(T0)).object;
  // the same delivery (seen within the granularity), merged three days later: unchanged
  const same = mergeObject(first, item(ind(), 'feed', { seenAt: iso(T0 + 30 * 60_000) }), ctx(T0 + 3 * DAY));
  assert.equal(same.outcome, 'unchanged');
  // a second source three days later (seen then): +10, and the age restarts from its last_seen
  const second = mergeObject(
    first,
    item(ind(), 'other', { confidence: 60, seenAt: iso(T0 + 3 * DAY) }),
    ctx(T0 + 3 * DAY),
  );
  assert.equal(second.outcome, 'updated');
  assert.equal(ext(second.object).score, 90);
  assert.equal(ext(second.object).scored_at, iso(T0 + 3 * DAY));
  // an enrichment signal three days later: modulates, but does not refresh the age
  const enriched = mergeObject(first, item(ind(), 'enrich:vt', { confidence: 100 }), ctx(T0 + 7 * DAY));
  assert.equal(enriched.outcome, 'updated');
  assert.equal(ext(enriched.object).score, 50, '(80 + 20) halved after one half-life');
  assert.equal(Object.keys(ext(enriched.object).sources).length, 2);
});

it('a derived valid_until takes no part in the join: it follows the score, and a source value still counts', () => {
  const first = mergeObject(undefined, item(ind()), ctx(T0)).object;
  const derived = first.valid_until;
  // an enrichment re-delivery carries the stored (derived) valid_until back: still derived
  const back = mergeObject(
    first,
    item({ ...ind(), valid_until: derived }, 'enrich:vt', { confidence: 0 }),
    ctx(T0 + HOUR),
  );
  assert.equal(ext(back.object).derived_valid_until, true);
  assert.ok(
    Date.parse(back.object.valid_until as string) < Date.parse(derived as string),
    'benign verdict: expires sooner',
  );
  // a source that gives valid_until on a new object that had none: absent (never) wins the join, so it stays derived
  const given = mergeObject(
    first,
    item(ind({ valid_until: iso(T0 + 100 * DAY) }), 'other', { seenAt: iso(T0) }),
    ctx(T0),
  );
  assert.equal(ext(given.object).derived_valid_until, true);
});

it('the end state does not depend on arrival order (same now)', () => {
  const a = item(ind(), 'a', { confidence: 40 });
  const b = item(ind({ modified: iso(T0 + HOUR), name: 'x' }), 'b', { confidence: 70 });
  const e = item(ind(), 'enrich:vt', { confidence: 90 });
  const orders = [
    [a, b, e],
    [e, b, a],
    [b, a, e],
    [b, e, a],
  ];
  const results = orders.map((seq) => {
    let o: StixObject | undefined;
    for (const x of seq) o = mergeObject(o, x, ctx(T0 + DAY)).object;
    return storedJson(must(o, 'o'));
  });
  for (const r of results) assert.equal(r, results[0]);
});

it('an expired indicator stays expired until its score is back above the threshold', () => {
  const first = mergeObject(undefined, item(ind()), ctx(T0)).object;
  const expired: StixObject = { ...first, x_stixgate: { ...ext(first), expired: true } };
  const later = T0 + 20 * DAY;
  // an enrichment signal does not refresh the age: still expired
  const e = mergeObject(expired, item(ind(), 'enrich:vt', { confidence: 100 }), ctx(later));
  assert.equal(ext(e.object).expired, true);
  // the feed lists it again: active, full score
  const again = mergeObject(expired, item(ind()), ctx(later));
  assert.equal(ext(again.object).expired, undefined);
  assert.equal(ext(again.object).score, 80);
});
