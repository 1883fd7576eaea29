/**
 * The OASIS stix2-elevator idioms: every STIX 1.x input mapped by the `stix1` source, compared with
 * the elevator's STIX 2.1 output (`idioms-json-2.1-ignore/`, missing_policy=ignore) under the rules
 * in integrations/stix1/idiom-compare.ts (ids and timestamps ignored, patterns compared after
 * parsing with AND/OR operands sorted, SCOs by type and properties).
 *
 * The per-idiom agreement table is printed as test diagnostics. The idioms that do not agree are
 * listed below, each explained in integrations/stix1/README.md; any change (better or worse) fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusPath, PROJECT_ROOT } from '../helpers/corpus.js';
import { parseXmlString } from '../../src/core/safe-xml.js';
import { canonicalPattern } from '../../src/core/pattern.js';
import { loadStix1Tables } from '../../integrations/stix1/common.js';
import { mapStix1Package } from '../../integrations/stix1/map.js';
import { compareIdiom, type IdiomComparison } from '../../integrations/stix1/idiom-compare.js';
import { collectXmlSource } from '../helpers/xml-source.js';
import type { StixObject } from '../../src/core/stix.js';

const IDIOMS = corpusPath('stix-elevator-idioms/idioms-xml');
const REF_DIR = corpusPath('stix-elevator-idioms/idioms-json-2.1-ignore');

/**
 * Idioms whose indicators, observables or patterns do not agree with the elevator (see README).
 * `or-instead-of-list-as-string` has a URL `'http://example.com/foo/malicious2.html` (a stray
 * quote): the elevator keeps it raw, the value gate rejects the indicator (issue 18).
 */
const KNOWN_DIFFERENT = {
  indicators: [
    'custom-object',
    'ioc-indicator',
    'malicious-email-indicator-with-attachment',
    'network-socket-pattern',
    'observable_composition',
    'or-instead-of-list-as-string',
    'snort-test-mechanism',
  ],
  observables: [
    'Mandiant_APT1_Report',
    'email-links-observable',
    'file-and-directory-pattern',
    'icmp_observable',
    'malicious-email-indicator-with-attachment',
    'observable-with-networkconnection-instance',
    'observable_composition',
    'pr-222-1',
    'pr-222',
  ],
  patterns: [
    'custom-object',
    'malicious-email-indicator-with-attachment',
    'network-socket-pattern',
    'observable_composition',
    'or-instead-of-list-as-string',
  ],
};

const tables = loadStix1Tables(join(PROJECT_ROOT, 'mappings'));

function mapFile(file: string): StixObject[] {
  const { root } = parseXmlString(readFileSync(file), { name: file, file });
  return mapStix1Package(root, { sourceId: 'idioms', file, fallbackTime: '2026-03-01T12:00:00.000Z', tables }).objects;
}

test('elevator idioms: per-idiom agreement of indicators, observables and patterns', {
  skip: IDIOMS.skip || REF_DIR.skip,
}, (t) => {
  const rows: [string, IdiomComparison][] = [];
  for (const f of readdirSync(IDIOMS.path)
    .filter((n) => n.endsWith('.xml'))
    .sort()) {
    const stem = f.slice(0, -4);
    const ref = join(REF_DIR.path, `${stem}.json`);
    if (!existsSync(ref)) continue;
    const expected = (JSON.parse(readFileSync(ref, 'utf8')) as { objects: StixObject[] }).objects;
    rows.push([stem, compareIdiom(mapFile(join(IDIOMS.path, f)), expected)]);
  }
  const cell = (a: { agree: boolean; matched: number; ref: number; ours: number }): string =>
    `${a.agree ? 'yes' : 'NO '} ${a.matched}/${a.ref}/${a.ours}`.padEnd(14);
  t.diagnostic(
    'idiom'.padEnd(52) +
      'indicators    observables   patterns      (agree matched/reference/ours)  type counts that differ [ref, ours]',
  );
  for (const [stem, c] of rows)
    t.diagnostic(
      stem.padEnd(52) + cell(c.indicators) + cell(c.observables) + cell(c.patterns) + JSON.stringify(c.typeCounts),
    );
  const total = (k: 'indicators' | 'observables' | 'patterns'): number => rows.filter(([, c]) => c[k].agree).length;
  t.diagnostic(
    `agree: indicators ${total('indicators')}/${rows.length}, observables ${total('observables')}/${rows.length}, patterns ${total('patterns')}/${rows.length}`,
  );
  assert.equal(rows.length, 63);
  for (const k of ['indicators', 'observables', 'patterns'] as const) {
    const differ = rows.filter(([, c]) => !c[k].agree).map(([s]) => s);
    assert.deepEqual(differ, KNOWN_DIFFERENT[k], `${k}: idioms that differ from the elevator`);
  }
  assert.equal(total('indicators'), 56);
  assert.equal(total('observables'), 54);
  assert.equal(total('patterns'), 58);
});

test('elevator idioms: every STIX pattern we emit parses and is stable under canonicalisation', {
  skip: IDIOMS.skip,
}, () => {
  let n = 0;
  for (const f of readdirSync(IDIOMS.path).filter((x) => x.endsWith('.xml'))) {
    for (const o of mapFile(join(IDIOMS.path, f))) {
      if (o.type !== 'indicator' || o.pattern_type !== 'stix') continue;
      const c = canonicalPattern(String(o.pattern));
      assert.equal(canonicalPattern(c), c);
      n++;
    }
  }
  assert.equal(n, 64);
});

test('composite indicator expressions and idref resolution (composite.xml)', { skip: IDIOMS.skip }, () => {
  const objs = mapFile(join(IDIOMS.path, 'composite.xml'));
  const byId = new Map(objs.map((o) => [o.id, o]));
  assert.equal(
    byId.get('indicator--702f0acc-4669-43bf-9193-55cdd1d928c7')?.pattern,
    "[ipv4-addr:value = '219.90.112.203'] AND [ipv4-addr:value = '202.65.222.45']",
  );
  assert.equal(
    byId.get('indicator--6478991b-3af4-45f9-b649-b2c4e7acedc7')?.pattern,
    "([ipv4-addr:value = '219.90.112.203'] AND [ipv4-addr:value = '202.65.222.45']) OR [file:hashes.MD5 = '026871ea3d6cbbeb90fea6bf2906cc12']",
  );
  assert.deepEqual(
    objs.map((o) => o.type),
    ['indicator', 'indicator', 'indicator', 'indicator', 'indicator'],
  );
});

test('the same file ingested twice (different clocks) yields identical objects', { skip: IDIOMS.skip }, async () => {
  const file = join(IDIOMS.path, 'Mandiant_APT1_Report.xml');
  const a = await collectXmlSource('stix1', file, {}, undefined, Date.UTC(2026, 0, 1));
  const b = await collectXmlSource('stix1', file, {}, undefined, Date.UTC(2027, 5, 1));
  assert.ok(a.objects.length > 50, `${a.objects.length} objects`);
  assert.deepEqual(b.objects, a.objects);
  assert.equal(new Set(a.objects.map((o) => o.id)).size, a.objects.length, 'ids are unique');
  // unchanged file: the cursor makes the next run a no-op
  const c = await collectXmlSource('stix1', file, {}, a.cursor);
  assert.equal(c.pages, 0);
});
