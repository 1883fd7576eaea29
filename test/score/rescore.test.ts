import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { StixObject } from '../../src/core/stix.js';
import { applyScore, type ScoreExtension } from '../../src/score/model.js';
import { rescoreObject } from '../../src/store/rescore.js';
import { DAY, HOUR, STANDARD, T0, iso, scoring } from './helpers.js';
import { must } from '../helpers/must.js';

const sc = STANDARD();

/** An IPv4 indicator seen at T0 by one source, scored at T0 as the merge would. */
function stored(confidence = 80): StixObject {
  const o: StixObject = {
    type: 'indicator',
    spec_version: '2.1',
    id: 'indicator--33333333-3333-4333-8333-333333333333',
    created: iso(T0),
    modified: iso(T0),
    pattern: "[ipv4-addr:value = '192.0.2.1']",
    pattern_type: 'stix',
    valid_from: iso(T0),
    x_stixgate: { sources: { feed: { first_seen: iso(T0), last_seen: iso(T0), confidence } } },
  };
  applyScore(o, sc, T0);
  return o;
}
const ext = (o: StixObject | undefined) => o?.x_stixgate as ScoreExtension | undefined;

it('writes only moves of at least `step`, with scored_at, never mutating its input', () => {
  const o = stored();
  const frozen = JSON.stringify(o);
  assert.equal(rescoreObject(o, sc, T0 + HOUR), undefined, '80 → 80');
  assert.equal(rescoreObject(o, sc, T0 + 0.5 * DAY), undefined, '80 → 76: below the step');
  const next = rescoreObject(o, sc, T0 + DAY);
  assert.equal(ext(next)?.score, 72);
  assert.equal(ext(next)?.scored_at, iso(T0 + DAY));
  assert.equal(next?.valid_until, o.valid_until, 'the derived valid_until does not move with time');
  assert.equal(JSON.stringify(o), frozen);
});

it('a crossing of the threshold is written whatever the step', () => {
  const o = stored();
  const at = Date.parse(o.valid_until as string);
  const near = must(rescoreObject(o, sc, at - HOUR), 'rescoreObject(o, sc, at - HOUR)');
  assert.equal(ext(near)?.score, 20);
  const exp = rescoreObject(near, sc, at);
  assert.equal(ext(exp)?.score, 19, 'one point, below the step of 5');
  assert.equal(ext(exp)?.expired, true);
  assert.equal(rescoreObject(must(exp, 'exp'), sc, at + 30 * DAY), undefined, 'expired ones are left alone');
});

it('skips revoked objects and non-indicators; a new configuration rewrites the derived valid_until', () => {
  assert.equal(rescoreObject({ ...stored(), revoked: true }, sc, T0 + 3 * DAY), undefined);
  assert.equal(
    rescoreObject({ type: 'malware', id: 'malware--x', x_stixgate: { sources: {} } }, sc, T0 + 3 * DAY),
    undefined,
  );
  const slower = scoring({
    expire_below: 20,
    step: 5,
    models: { 'ipv4-addr': { curve: 'exponential', half_life_days: 30 } },
  });
  const o = stored();
  const next = rescoreObject(o, slower, T0 + HOUR);
  assert.ok(next, 'the score did not move, the expiry did');
  assert.ok(Date.parse(next.valid_until as string) > Date.parse(o.valid_until as string));
  // a source's own valid_until is never rewritten
  const own = stored();
  delete (own.x_stixgate as ScoreExtension).derived_valid_until;
  own.valid_until = iso(T0 + 5 * DAY);
  assert.equal(rescoreObject(own, slower, T0 + HOUR), undefined);
  assert.equal(ext(rescoreObject(own, sc, T0 + 5 * DAY))?.expired, true, 'expired by its own valid_until');
});
