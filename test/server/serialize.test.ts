import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IndicatorMatch, LookupResult } from '../../src/lookup/index.js';
import { serializeBatch, serializeResult } from '../../src/server/serialize.js';

/** The reference: the same fields, in the order fast-json-stringify wrote them, via JSON.stringify. */
function reference(r: LookupResult): string {
  const o: Record<string, unknown> = {
    value: r.value,
    matched: r.matched,
    indicators: r.indicators.map((m) => ({
      id: m.id,
      match: m.match,
      matched_value: m.matched_value,
      score: m.score,
      tlp: m.tlp,
      labels: m.labels,
      sources: m.sources,
      first_seen: m.first_seen,
      last_seen: m.last_seen,
      valid_until: m.valid_until,
      sightings: m.sightings,
    })),
  };
  if (r.type !== undefined) o.type = r.type;
  if (r.invalid !== undefined) o.invalid = r.invalid;
  return JSON.stringify(o);
}

const match = (over: Partial<IndicatorMatch> = {}): IndicatorMatch => ({
  id: 'indicator--2a6c2fa1-6e11-5325-b357-815ff77e9d64',
  match: 'exact',
  matched_value: 'evil.example',
  score: 70,
  tlp: 'clear',
  labels: Object.freeze(['botnet', 'c2']),
  sources: Object.freeze(['feed_a']),
  first_seen: '2026-01-02T00:00:00.000Z',
  last_seen: '2026-02-01T00:00:00.000Z',
  valid_until: null,
  sightings: 0,
  ...over,
});

test('serializeResult writes exactly the reference JSON, including strings that need escaping', () => {
  const nasty = ['a"b', 'back\\slash', 'tab\tnl\n', '\u0000\u001f', '\u2028\u2029', 'é中😀', '\ud800lone', 'x\udc00'];
  const cases: LookupResult[] = [
    { value: 'evil.example', type: 'domain-name', matched: true, indicators: [match()] },
    {
      value: 'a.evil.example',
      type: 'domain-name',
      matched: true,
      indicators: [
        match({ match: 'domain' }),
        match({
          id: 'indicator--00000000-0000-4000-8000-000000000009',
          score: null,
          tlp: 'red',
          valid_until: '2027-01-01T00:00:00.000Z',
          sightings: 4294967295,
        }),
      ],
    },
    { value: '192.0.2.1', type: 'ipv4-addr', matched: false, indicators: [] },
    { value: '', matched: false, invalid: 'empty', indicators: [] },
    {
      value: 'x',
      type: 'url',
      matched: true,
      indicators: [
        match({ score: 0, first_seen: null, last_seen: null }),
        match({ score: 100, labels: [], sources: [] }),
      ],
    },
    // ids not in the canonical lower-case form are escaped like any other string
    {
      value: 'v',
      matched: true,
      indicators: [
        match({ id: 'indicator--"odd"\\id' }),
        match({ id: 'INDICATOR--2A6C2FA1-6E11-5325-B357-815FF77E9D64' }),
      ],
    },
  ];
  for (const s of nasty) {
    cases.push({ value: s, matched: false, invalid: `reason ${s}`, indicators: [] });
    cases.push({
      value: s,
      type: 'url',
      matched: true,
      indicators: [match({ matched_value: s, labels: [s, 'ok'], sources: Object.freeze([s]), first_seen: s })],
    });
  }
  for (const r of cases) {
    const got = serializeResult(r);
    assert.equal(got, reference(r));
    assert.deepEqual(JSON.parse(got), JSON.parse(reference(r)));
  }
  // memoised lists and timestamps give the same answer the second time
  for (const r of cases) assert.equal(serializeResult(r), reference(r));
  assert.equal(serializeBatch(cases), JSON.stringify({ results: cases.map((r) => JSON.parse(reference(r))) }));
  assert.equal(serializeBatch([]), '{"results":[]}');
});

test('serializeResult writes only allowlisted fields', () => {
  const extra = { ...match(), secret: 'x', raw: { a: 1 } } as IndicatorMatch;
  const r = { value: 'v', matched: true, indicators: [extra], debug: true } as LookupResult;
  const out = JSON.parse(serializeResult(r));
  assert.deepEqual(Object.keys(out), ['value', 'matched', 'indicators']);
  assert.deepEqual(Object.keys(out.indicators[0]), [
    'id',
    'match',
    'matched_value',
    'score',
    'tlp',
    'labels',
    'sources',
    'first_seen',
    'last_seen',
    'valid_until',
    'sightings',
  ]);
});
