import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseXmlString } from '../../src/core/safe-xml.js';
import { PROJECT_ROOT } from '../../test/helpers/corpus.js';
import { loadOpenIocTerms, mapOpenIoc } from './map.js';

const terms = loadOpenIocTerms(join(PROJECT_ROOT, 'mappings'));
const item = (i: number) =>
  `<IndicatorItem id="i${i}" condition="is"><Context document="FileItem" search="FileItem/Md5sum" type="mir"/><Content type="md5">${i.toString(16).padStart(32, '0')}</Content></IndicatorItem>`;

/** Indicators nested `depth` deep, one item at each level. */
function nested(depth: number): string {
  let inner = '';
  for (let d = depth; d >= 0; d--)
    inner = `<Indicator operator="${d % 2 ? 'AND' : 'OR'}" id="n${d}">${item(d)}${inner}</Indicator>`;
  return `<ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="6d2a1b1e-2222-4222-8222-222222222222"><short_description>nest</short_description><definition>${inner}</definition></ioc>`;
}

function map(xml: string) {
  const { root } = parseXmlString(Buffer.from(xml), { name: 'n.ioc', file: 'n.ioc' });
  return mapOpenIoc(root, { sourceId: 's', file: 'n.ioc', fallbackTime: '2026-01-01T00:00:00.000Z', terms });
}

test('OpenIOC nesting: each element is mapped once (items counted), up to the depth limit', () => {
  const r = map(nested(64));
  assert.deepEqual(r.rejections, []);
  assert.equal(r.stats.items, 65);
  assert.equal(r.objects.filter((o) => o.type === 'indicator').length, 1);
});

test('OpenIOC nested past the depth limit is rejected with a reason, not silently truncated', () => {
  const r = map(nested(65));
  assert.deepEqual(r.objects, []);
  assert.deepEqual(
    r.rejections.map((x) => [x.reason, x.location]),
    [['too_deep', { source: 's', file: 'n.ioc' }]],
  );
});
