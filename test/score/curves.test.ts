import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validate } from '../../src/core/schema.js';
import { daysUntilBelow, decayFactor } from '../../src/score/curves.js';
import { NO_DECAY_SCORING, baseScore, scoreAt, scoredType, type ScoreExtension } from '../../src/score/model.js';
import { scoringSchema } from '../../src/score/schema.js';
import type { StixObject } from '../../src/core/stix.js';
import { DAY, STANDARD, T0, iso, scoring } from './helpers.js';
import { must } from '../helpers/must.js';

const near = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} ≈ ${b}`);

function ip(confidence: number, seen = T0, extra: Partial<StixObject> = {}): StixObject {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: 'indicator--11111111-1111-4111-8111-111111111111',
    created: iso(seen),
    modified: iso(seen),
    pattern: "[ipv4-addr:value = '198.51.100.7']",
    pattern_type: 'stix',
    valid_from: iso(seen),
    x_stixgate: { sources: { feed: { first_seen: iso(seen), last_seen: iso(seen), confidence } } },
    ...extra,
  };
}

describe('decay curves', () => {
  it('exponential: 1 at t=0, ½ at the half-life, ¼ at two', () => {
    const m = { curve: 'exponential' as const, halfLifeDays: 7 };
    assert.equal(decayFactor(m, 0), 1);
    near(decayFactor(m, 7), 0.5);
    near(decayFactor(m, 14), 0.25);
    assert.equal(decayFactor(m, -3), 1, 'a negative age counts as 0');
  });

  it('polynomial (MISP): 1 − (t/τ)^(1/δ), 0 from τ on', () => {
    const m = { curve: 'polynomial' as const, lifetimeDays: 730, decaySpeed: 0.5 };
    assert.equal(decayFactor(m, 0), 1);
    near(decayFactor(m, 365), 0.75); // 1 − 0.5²
    assert.equal(decayFactor(m, 730), 0);
    assert.equal(decayFactor(m, 2000), 0);
    const fast = { curve: 'polynomial' as const, lifetimeDays: 100, decaySpeed: 2 };
    near(decayFactor(fast, 25), 0.5); // 1 − 0.25^½
    near(decayFactor({ curve: 'linear', lifetimeDays: 30 }, 15), 0.5);
    assert.equal(decayFactor({ curve: 'none' }, 1e6), 1);
  });

  it('daysUntilBelow inverts the curve', () => {
    for (const m of [
      { curve: 'exponential' as const, halfLifeDays: 7 },
      { curve: 'polynomial' as const, lifetimeDays: 730, decaySpeed: 0.5 },
      { curve: 'polynomial' as const, lifetimeDays: 90, decaySpeed: 3 },
      { curve: 'linear' as const, lifetimeDays: 30 },
    ]) {
      const d = daysUntilBelow(m, 80, 19.5);
      near(80 * decayFactor(m, d), 19.5, 1e-6);
    }
    near(daysUntilBelow({ curve: 'exponential', halfLifeDays: 7 }, 80, 20), 14);
    assert.equal(daysUntilBelow({ curve: 'none' }, 80, 20), Infinity);
    assert.equal(daysUntilBelow({ curve: 'exponential', halfLifeDays: 7 }, 80, 0), Infinity);
    assert.equal(daysUntilBelow({ curve: 'exponential', halfLifeDays: 7 }, 10, 20), 0);
  });
});

describe('score', () => {
  it('base: best confidence, +10 per extra independent source, sightings by log2, enrichment ±0.4 per point', () => {
    const p = (confidence?: number) => ({
      first_seen: 'x',
      last_seen: 'x',
      ...(confidence === undefined ? {} : { confidence }),
    });
    const sc = NO_DECAY_SCORING;
    assert.equal(baseScore({}, undefined, sc), 0);
    assert.equal(baseScore({ a: p() }, undefined, sc), 50);
    assert.equal(baseScore({ a: p(40), b: p(80) }, undefined, sc), 90);
    assert.equal(baseScore({ a: p(95), b: p(10) }, undefined, sc), 100, 'capped');
    // enrichment modulates: it neither counts as a source nor sets the best confidence
    assert.equal(baseScore({ a: p(60), 'enrich:vt': p(100) }, undefined, sc), 80);
    assert.equal(baseScore({ a: p(60), 'enrich:vt': p(0) }, undefined, sc), 40);
    assert.equal(
      baseScore({ a: p(60), 'enrich:vt': p(100), 'enrich:abuseipdb': p(50) }, undefined, sc),
      70,
      'mean of the services',
    );
    assert.equal(baseScore({ a: p(60), 'enrich:shodan': p() }, undefined, sc), 60, 'no opinion, no effect');
    // sightings: 5 × log2(1 + k), at most 25
    const s = (count: number) => ({ count, first_seen: 'x', last_seen: 'x' });
    assert.equal(baseScore({ a: p(60) }, s(1), sc), 65);
    assert.equal(baseScore({ a: p(60) }, s(3), sc), 70);
    assert.equal(baseScore({ a: p(60) }, s(1_000_000), sc), 85);
  });

  it('chooses the model by the pattern type under the one observables rule (a STIX 2.0 indicator has no pattern_type)', () => {
    const o = ip(80);
    const { pattern_type: _omitted, ...v20 } = o;
    assert.equal(scoredType(v20), 'ipv4-addr', 'no pattern_type: a STIX pattern by definition');
    assert.equal(scoredType({ ...o, pattern_type: 'sigma' }), undefined, 'another pattern language names no type');
  });

  it('follows the IPv4 half-life with a fixed clock and expires when the rounded score falls below 20', () => {
    const sc = STANDARD();
    const o = ip(80);
    assert.equal(scoredType(o), 'ipv4-addr');
    const at = (days: number) => scoreAt(o, sc, T0 + days * DAY);
    assert.equal(at(0).score, 80);
    assert.equal(at(7).score, 40);
    assert.equal(at(14).score, 20);
    assert.equal(at(3.5).score, Math.round(80 * Math.SQRT1_2));
    // round(80 · 2^(−t/7)) < 20 ⇔ t > 7 · log2(80 / 19.5)
    const crossing = T0 + Math.ceil(7 * Math.log2(80 / 19.5) * DAY);
    assert.equal(at(0).expiresAtMs, crossing);
    assert.equal(scoreAt(o, sc, crossing - 1).score, 20);
    assert.equal(scoreAt(o, sc, crossing).score, 19);
  });

  it('a file hash decays over years (MISP polynomial), an unknown type uses default or none', () => {
    const sc = STANDARD();
    const f = ip(80, T0, { pattern: `[file:hashes.'SHA-256' = '${'a'.repeat(64)}']` });
    assert.equal(scoreAt(f, sc, T0 + 365 * DAY).score, 60); // 80 · 0.75
    assert.equal(scoreAt(f, sc, T0 + 30 * DAY).score, 80);
    const d = ip(80, T0, { pattern: "[domain-name:value = 'evil.example']" });
    assert.equal(scoreAt(d, sc, T0 + 3000 * DAY).score, 80, 'no model and no default: no decay');
    assert.equal(scoreAt(d, sc, T0).expiresAtMs, Infinity);
  });

  it('age counts from the latest independent last_seen or sighting, not from enrichment', () => {
    const sc = STANDARD();
    const o = ip(80, T0);
    must(o.x_stixgate, 'o.x_stixgate').sources['enrich:vt'] = {
      first_seen: iso(T0 + 7 * DAY),
      last_seen: iso(T0 + 7 * DAY),
      confidence: 50,
    };
    assert.equal(scoreAt(o, sc, T0 + 7 * DAY).score, 40);
    (o.x_stixgate as ScoreExtension).sightings = {
      count: 1,
      first_seen: iso(T0 + 7 * DAY),
      last_seen: iso(T0 + 7 * DAY),
    };
    assert.equal(scoreAt(o, sc, T0 + 7 * DAY).score, 85, 'a sighting refreshes the age and adds 5');
  });
});

describe('scoring configuration', () => {
  it('defaults: recommended models, threshold 20, step 5', () => {
    const r = validate(scoringSchema, undefined, 'scoring');
    assert.ok(r.ok);
    assert.equal(r.value.expire_below, 20);
    assert.deepEqual(r.value.models['ipv4-addr'], { curve: 'exponential', half_life_days: 7 });
    assert.deepEqual(r.value.models.file, { curve: 'polynomial', lifetime_days: 730, decay_speed: 0.5 });
    const sc = scoring();
    assert.equal(sc.models.get('ipv4-addr')?.halfLifeDays, 7);
  });

  it('reports every problem with its path', () => {
    const r = validate(
      scoringSchema,
      {
        expire_below: 120,
        models: {
          'ipv4-addr': { curve: 'exponential' },
          file: { curve: 'linear', lifetime_days: 10, half_life_days: 3 },
          'ipv5-addr': { curve: 'none' },
          url: { curve: 'exponentail', half_life_days: 2 },
        },
        stepp: 3,
      },
      'scoring',
    );
    assert.ok(!r.ok);
    const got = r.issues.map((i) => `${i.path}: ${i.message}`).sort();
    assert.deepEqual(got, [
      'scoring.expire_below: must be <= 100, got 120',
      'scoring.models.file.half_life_days: does not apply to curve linear',
      'scoring.models.ipv4-addr.half_life_days: is required with curve exponential',
      'scoring.models.ipv5-addr: unknown observable type; known: ipv4-addr, ipv6-addr, domain-name, url, email-addr, file, x509-certificate, default',
      'scoring.models.url.curve: must be one of none, exponential, polynomial, linear, got "exponentail" (did you mean "exponential"?)',
      'scoring.stepp: unknown key (did you mean "step"?)',
    ]);
  });
});

describe('docs/scoring.md worked example', () => {
  it('base 67, the table, the derived valid_until, and the file-hash curve', () => {
    const sc = scoring(); // the recommended models, expire_below 20
    const seen = iso(T0);
    const o = ip(60, T0);
    const ext = o.x_stixgate as ScoreExtension;
    ext.sources['feed-b'] = { first_seen: seen, last_seen: seen, confidence: 40 };
    ext.sources['enrich:abuseipdb'] = { first_seen: seen, last_seen: seen, confidence: 30 };
    ext.sightings = { count: 1, first_seen: seen, last_seen: seen };
    assert.equal(scoreAt(o, sc, T0).base, 67);
    assert.deepEqual(
      [0, 3, 7, 12, 12.5].map((d) => scoreAt(o, sc, T0 + d * DAY).score),
      [67, 50, 34, 20, 19],
    );
    assert.equal(iso(scoreAt(o, sc, T0).expiresAtMs), '2026-03-13T11:09:19.481Z');
    ext.sightings = { count: 2, first_seen: seen, last_seen: iso(T0 + 10 * DAY) };
    assert.equal(scoreAt(o, sc, T0 + 10 * DAY).score, 70);
    const f = ip(80, T0, { pattern: `[file:hashes.MD5 = '${'b'.repeat(32)}']` });
    assert.deepEqual(
      [0, 180, 365, 547.5].map((d) => scoreAt(f, sc, T0 + d * DAY).score),
      [80, 75, 60, 35],
    );
    assert.equal((scoreAt(f, sc, T0).expiresAtMs - T0) / DAY, Math.ceil(730 * Math.sqrt(1 - 19.5 / 80) * DAY) / DAY);
  });
});
