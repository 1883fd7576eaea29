/**
 * The CI slice of the mapper fuzz suite (issue 18): every source format, a deterministic seed and
 * a bounded number of structure-aware cases each, checked for no crash (only typed errors),
 * bounded output, valid STIX and the value gate on everything emitted, and the prototype canary
 * (FAULTS X7). `npm run fuzz` runs the long mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORPUS_DIR } from '../helpers/corpus.js';
import { existsSync } from 'node:fs';
import { fuzzTarget } from './fuzz.js';
import { targets } from './targets.js';
import { applyPlan } from './mutate.js';
import { checkOutcome, PROTO_BASELINE } from './invariants.js';
import { must } from '../helpers/must.js';

const RUNS = Number(process.env.STIXGATE_FUZZ_CI_RUNS ?? 25);
const SEED = 18;

const all = targets();

test('the fuzz suite covers all 12 source formats (STIX 2.0 and 2.1 bundles separately)', () => {
  assert.deepEqual(
    all.map((t) => t.name),
    [
      'text_list',
      'csv',
      'stix_bundle_2.1',
      'stix_bundle_2.0',
      'taxii21',
      'misp_feed',
      'misp_api',
      'otx',
      'abusech_urlhaus',
      'abusech_threatfox',
      'abusech_malwarebazaar',
      'cisa_kev',
      'stix1',
      'openioc',
    ],
  );
  for (const t of all) assert.ok(t.seeds.length >= 1, t.name);
});

test('corpus seeds', {
  skip: existsSync(CORPUS_DIR)
    ? false
    : `corpus not present at ${CORPUS_DIR}: the fuzz slice runs on the fixtures under test/fuzz/seeds only`,
}, () => {
  assert.ok(
    must(
      all.find((t) => t.name === 'stix1'),
      "all.find((t) => t.name === 'stix1')",
    ).seeds.length > 2,
  );
  assert.ok(
    must(
      all.find((t) => t.name === 'openioc'),
      "all.find((t) => t.name === 'openioc')",
    ).seeds.length > 1,
  );
});

test('the invariants catch what they are for: an untyped crash, a prototype change, an invalid object', async () => {
  await assert.rejects(
    checkOutcome('x', async () => {
      throw new TypeError('boom');
    }),
    /crash \(untyped error\): TypeError: boom/,
  );
  await assert.rejects(
    checkOutcome('x', async () => {
      Object.defineProperty(Object.prototype, 'fuzzCanary', { value: 1, configurable: true });
      return { objects: [], rejections: [] };
    }),
    /prototype changed/,
  );
  delete (Object.prototype as Record<string, unknown>).fuzzCanary;
  assert.equal(Object.getOwnPropertyNames(Object.prototype).length, PROTO_BASELINE[0]);
  const bad = {
    type: 'indicator',
    spec_version: '2.1',
    id: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',
    created: '2026-01-01T00:00:00Z',
    modified: '2026-01-01T00:00:00Z',
    pattern: "[ipv4-addr:value = '999.1.1.1']",
    pattern_type: 'stix',
    valid_from: '2026-01-01T00:00:00Z',
  };
  await assert.rejects(
    checkOutcome('x', async () => ({ objects: [bad], rejections: [] })),
    /fails the STIX checks \(invalid_ipv4/,
  );
  await assert.rejects(
    checkOutcome('x', async () => ({
      objects: [{ ...bad, pattern: "[ipv4-addr:value = '1.2.3.4']", name: 5 }],
      rejections: [],
    })),
    /fails the STIX checks \(bad_property/,
  );
  const many = Array.from({ length: 40 }, () => ({ ...bad, pattern: "[ipv4-addr:value = '1.2.3.4']" }));
  await assert.rejects(
    checkOutcome('x', async () => ({ objects: many, rejections: [] })),
    /unbounded output/,
  );
});

test('mutation plans are deterministic and structure-aware', () => {
  const seed = '{"a":{"b":"c"}}';
  const plan = [{ op: 3, a: 0, b: 1, pick: 0, s: '' }];
  const out = applyPlan('json', seed, plan);
  assert.equal(out, applyPlan('json', seed, plan));
  assert.match(out, /"(__proto__|constructor|prototype)":/);
  const xml = '<a id="x"><b idref="y"/><c id="z">t</c></a>';
  assert.equal(
    applyPlan('xml', xml, [{ op: 1, a: 0, b: 1, pick: 0, s: '' }]),
    '<a id="x"><b idref="z"/><c id="z">t</c></a>',
  );
});

for (const t of all) {
  test(`fuzz ${t.name}: ${RUNS} structure-aware cases, no crash, bounded and valid output, prototypes unchanged (X7, F10-F13)`, async () => {
    const s = await fuzzTarget(t, { seed: SEED, numRuns: RUNS });
    assert.equal(
      s.failure,
      undefined,
      s.failure
        ? `${s.failure.message}\nreplay: seed ${s.failure.seed}, path ${s.failure.path}\ninput: ${s.failure.input.slice(0, 600)}`
        : '',
    );
    assert.equal(s.runs, RUNS);
  });
}
