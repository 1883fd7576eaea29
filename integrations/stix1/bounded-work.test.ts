/**
 * Bounded work per document (issue 18): an idref "diamond" (each Observable_Composition level
 * uses the level below twice) doubles the pattern per level; 22 levels in 3.4 KB reached 2.25 GB.
 * The builder spends one budget unit per node, so the cost is capped and the package rejected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseXmlString } from '../../src/core/safe-xml.js';
import { BUDGET_FLOOR } from '../../src/core/work-budget.js';
import { PROJECT_ROOT } from '../../test/helpers/corpus.js';
import { loadStix1Tables } from './common.js';
import { Stix1Mapper, mapStix1Package } from './map.js';

const tables = loadStix1Tables(join(PROJECT_ROOT, 'mappings'));
const NS =
  'xmlns:stix="http://stix.mitre.org/stix-1" xmlns:indicator="http://stix.mitre.org/Indicator-2" xmlns:cybox="http://cybox.mitre.org/cybox-2" xmlns:AddressObj="http://cybox.mitre.org/objects#AddressObject-2" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';

/** Level 0 is an address; level k is an OR of two idrefs to level k-1; the indicator uses level `levels`. */
export function diamond(levels: number): string {
  const obs = [
    `<cybox:Observable id="d:L0"><cybox:Object><cybox:Properties xsi:type="AddressObj:AddressObjectType" category="ipv4-addr"><AddressObj:Address_Value>198.51.100.1</AddressObj:Address_Value></cybox:Properties></cybox:Object></cybox:Observable>`,
  ];
  for (let k = 1; k <= levels; k++) {
    obs.push(
      `<cybox:Observable id="d:L${k}"><cybox:Observable_Composition operator="${k % 2 ? 'OR' : 'AND'}"><cybox:Observable idref="d:L${k - 1}"/><cybox:Observable idref="d:L${k - 1}"/></cybox:Observable_Composition></cybox:Observable>`,
    );
  }
  return `<stix:STIX_Package ${NS} id="d:Package-1" version="1.2" timestamp="2024-01-01T00:00:00Z"><stix:Observables cybox_major_version="2" cybox_minor_version="1">${obs.join('')}</stix:Observables><stix:Indicators><stix:Indicator xsi:type="indicator:IndicatorType" id="d:indicator-1" timestamp="2024-01-01T00:00:00Z"><indicator:Title>diamond</indicator:Title><indicator:Observable idref="d:L${levels}"/></stix:Indicator></stix:Indicators></stix:STIX_Package>`;
}

function mapper(xml: string): Stix1Mapper {
  const { root } = parseXmlString(Buffer.from(xml), { name: 'diamond.xml', file: 'diamond.xml' });
  return new Stix1Mapper(root, {
    sourceId: 's',
    file: 'diamond.xml',
    fallbackTime: '2026-01-01T00:00:00.000Z',
    tables,
  });
}

test('the operation count of an idref diamond is 3·2^n nodes (the fan-out the budget measures)', () => {
  for (const n of [1, 3, 6]) {
    const m = mapper(diamond(n));
    const r = m.map();
    assert.equal(r.objects.filter((o) => o.type === 'indicator').length, 1, `n=${n}`);
    assert.equal(m.builder.budget.spent, 3 * 2 ** n - 1 + 1, `n=${n}`); // + the indicator's own step
  }
});

test('a 22-level diamond (5 KB) is rejected as too_complex after at most its budget of nodes', () => {
  const xml = diamond(22);
  assert.ok(xml.length < 6000, `${xml.length} bytes`);
  const m = mapper(xml);
  assert.equal(m.builder.budget.limit, BUDGET_FLOOR); // a small document gets the floor
  assert.throws(
    () => m.map(),
    (e: Error & { code?: string; reason?: string }) =>
      e.code === 'STIXGATE_ERR_INPUT_TOO_COMPLEX' && e.reason === 'too_complex',
  );
  assert.equal(m.builder.budget.spent, BUDGET_FLOOR + 1); // stopped at the first unit past the budget: ~2^17, not 3·2^22
  // through the package entry point: nothing emitted, one rejection naming the source and file
  const { root } = parseXmlString(Buffer.from(xml), { name: 'diamond.xml', file: 'diamond.xml' });
  const r = mapStix1Package(root, {
    sourceId: 's',
    file: 'diamond.xml',
    fallbackTime: '2026-01-01T00:00:00.000Z',
    tables,
  });
  assert.deepEqual(r.objects, []);
  assert.deepEqual(
    r.rejections.map((x) => [x.reason, x.location]),
    [['too_complex', { source: 's', file: 'diamond.xml' }]],
  );
});

test('the budget is linear in the document: many small indicators of a large package fit', () => {
  const inds: string[] = [];
  for (let i = 0; i < 3000; i++) {
    inds.push(
      `<stix:Indicator xsi:type="indicator:IndicatorType" id="d:indicator-${i}" timestamp="2024-01-01T00:00:00Z"><indicator:Observable><cybox:Object><cybox:Properties xsi:type="AddressObj:AddressObjectType" category="ipv4-addr"><AddressObj:Address_Value>198.51.${i >> 8}.${i & 255}</AddressObj:Address_Value></cybox:Properties></cybox:Object></indicator:Observable></stix:Indicator>`,
    );
  }
  const m = mapper(
    `<stix:STIX_Package ${NS} id="d:Package-1" version="1.2"><stix:Indicators>${inds.join('')}</stix:Indicators></stix:STIX_Package>`,
  );
  const r = m.map();
  assert.equal(r.objects.filter((o) => o.type === 'indicator').length, 3000);
  assert.equal(m.builder.budget.spent, 9000); // per indicator: its own step, one observable and one object node
});

test('an idref cycle is cut at the first repeat (visited set), not expanded to the depth limit', () => {
  const cyc = `<stix:STIX_Package ${NS} id="d:Package-1" version="1.2" timestamp="2024-01-01T00:00:00Z"><stix:Observables cybox_major_version="2" cybox_minor_version="1">
    <cybox:Observable id="d:A"><cybox:Observable_Composition operator="OR"><cybox:Observable idref="d:B"/><cybox:Observable idref="d:B"/><cybox:Observable idref="d:C"/></cybox:Observable_Composition></cybox:Observable>
    <cybox:Observable id="d:B"><cybox:Observable_Composition operator="OR"><cybox:Observable idref="d:A"/><cybox:Observable idref="d:A"/><cybox:Observable idref="d:C"/></cybox:Observable_Composition></cybox:Observable>
    <cybox:Observable id="d:C"><cybox:Object><cybox:Properties xsi:type="AddressObj:AddressObjectType" category="ipv4-addr"><AddressObj:Address_Value>198.51.100.2</AddressObj:Address_Value></cybox:Properties></cybox:Object></cybox:Observable>
  </stix:Observables><stix:Indicators><stix:Indicator xsi:type="indicator:IndicatorType" id="d:indicator-1" timestamp="2024-01-01T00:00:00Z"><indicator:Observable idref="d:A"/></stix:Indicator></stix:Indicators></stix:STIX_Package>`;
  const m = mapper(cyc);
  const r = m.map();
  const ind = r.objects.find((o) => o.type === 'indicator');
  assert.ok(ind, JSON.stringify(r.rejections));
  assert.ok(String(ind.pattern).includes("'198.51.100.2'"));
  assert.ok(m.builder.budget.spent < 40, `spent ${m.builder.budget.spent}`);
  assert.equal(r.stats.unmapped['idref-cycle'], 4);
});

test('composite indicators that each walk a long idref chain cost at most 34 steps each (depth limit), all counted', () => {
  const n = 700;
  const inds: string[] = [];
  for (let i = 0; i < n; i++) {
    const next =
      i + 1 < n
        ? `<indicator:Composite_Indicator_Expression operator="OR"><indicator:Indicator idref="d:indicator-${i + 1}"/></indicator:Composite_Indicator_Expression>`
        : `<indicator:Observable><cybox:Object><cybox:Properties xsi:type="AddressObj:AddressObjectType" category="ipv4-addr"><AddressObj:Address_Value>198.51.100.1</AddressObj:Address_Value></cybox:Properties></cybox:Object></indicator:Observable>`;
    inds.push(
      `<stix:Indicator xsi:type="indicator:IndicatorType" id="d:indicator-${i}" timestamp="2024-01-01T00:00:00Z">${next}</stix:Indicator>`,
    );
  }
  const m = mapper(
    `<stix:STIX_Package ${NS} id="d:Package-1" version="1.2"><stix:Indicators>${inds.join('')}</stix:Indicators></stix:STIX_Package>`,
  );
  const r = m.map();
  // the 33 indicators within 32 composite steps of the observable map; the others stop at the depth limit
  assert.equal(r.objects.filter((o) => o.type === 'indicator').length, 33);
  assert.equal(r.rejections.filter((x) => x.reason === 'no_pattern').length, n - 33);
  // steps: k + 2 (the observable and its object) for the k-th from the end (k ≤ 33), 34 for the rest: linear, not n²/2
  let expected = 0;
  for (let k = 1; k <= n; k++) expected += k <= 33 ? k + 2 : 34;
  assert.equal(m.builder.budget.spent, expected);
});

test('a relationship idref that looks like a STIX 2 id but is not one is unresolved, not emitted (found by the fuzz suite)', () => {
  const xml = `<stix:STIX_Package ${NS} xmlns:ttp="http://stix.mitre.org/TTP-1" xmlns:stixCommon="http://stix.mitre.org/common-1" id="d:Package-1" version="1.2" timestamp="2024-01-01T00:00:00Z"><stix:Indicators><stix:Indicator xsi:type="indicator:IndicatorType" id="d:indicator-1" timestamp="2024-01-01T00:00:00Z"><indicator:Observable><cybox:Object><cybox:Properties xsi:type="AddressObj:AddressObjectType" category="ipv4-addr"><AddressObj:Address_Value>198.51.100.1</AddressObj:Address_Value></cybox:Properties></cybox:Object></indicator:Observable><indicator:Indicated_TTP><stixCommon:TTP idref="bundle--x"/></indicator:Indicated_TTP></stix:Indicator></stix:Indicators></stix:STIX_Package>`;
  const m = mapper(xml);
  const r = m.map();
  assert.equal(r.objects.filter((o) => o.type === 'relationship').length, 0);
  assert.equal(r.stats.unresolvedIdrefs, 1);
});
