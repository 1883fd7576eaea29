/**
 * The value gate across formats (issue 18): values that must be rejected, per source type, first
 * at the mapper and then through the runner into a real embedded store (nothing stored raw, the
 * rejection counted by reason with its location).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { collectSource, FIXED_NOW } from '../helpers/collect.js';
import { runPages } from '../helpers/misp-source.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { objectValueProblem, VALIDITY_POLICY } from '../../src/core/value-gate.js';
import type { StixObject } from '../../src/core/stix.js';
import { must } from '../helpers/must.js';
import { runComponent, sourceComponent } from '../helpers/source-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'stixgate-gate-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const patterns = (objects: StixObject[]): string[] =>
  objects.filter((o) => o.type === 'indicator').map((o) => String(o.pattern));

function assertAllValid(objects: StixObject[]): void {
  for (const o of objects) assert.equal(objectValueProblem(o, VALIDITY_POLICY), undefined, JSON.stringify(o));
}

const TEXT = [
  '0.0.0.0/0',
  '::/0',
  '198.51.100.0/24',
  'http://999.1.1.1/x',
  'http://6/',
  'http://0x7f.1/',
  'http://example.com/ok',
].join('\n');

test('F20 text_list: /0 ranges and URLs on non-hosts are rejected with reasons', async () => {
  const r = await collectSource('text_list', file('list.txt', TEXT), { max_bad_ratio: 1 });
  assert.deepEqual(patterns(r.objects), [
    "[ipv4-addr:value = '198.51.100.0/24']",
    "[url:value = 'http://example.com/ok']",
  ]);
  assert.deepEqual(
    r.rejections.map((x) => [x.reason, x.location?.line]),
    [
      ['cidr_too_wide', 1],
      ['cidr_too_wide', 2],
      ['invalid_url', 4],
      ['invalid_url', 5],
      ['invalid_url', 6],
    ],
  );
});

test('misp_feed: /0 attributes are rejected', async () => {
  const feed = join(dir, 'feed');
  const uuid = '5f0c4a52-3b0c-4c44-9d2e-1e0f4e6f7a01';
  const attr = (n: number, type: string, value: string) => ({
    uuid: `5f0c4a52-3b0c-4c44-9d2e-1e0f4e6f7b0${n}`,
    type,
    category: 'Network activity',
    value,
    to_ids: true,
    timestamp: '1767225600',
  });
  const event = {
    Event: {
      uuid,
      info: 'gate',
      date: '2026-01-01',
      timestamp: '1767225600',
      published: true,
      Attribute: [attr(1, 'ip-dst', '0.0.0.0/0'), attr(2, 'ip-src', '::/0'), attr(3, 'ip-dst', '198.51.100.7')],
    },
  };
  mkdirSync(feed, { recursive: true });
  writeFileSync(
    join(feed, 'manifest.json'),
    JSON.stringify({ [uuid]: { info: 'gate', timestamp: '1767225600', date: '2026-01-01' } }),
  );
  writeFileSync(join(feed, `${uuid}.json`), JSON.stringify(event));
  const pages = await runPages(
    'misp_feed',
    { url: `${pathToFileURL(feed).href}/`, max_bad_ratio: 1 },
    undefined,
    Date.UTC(2026, 1, 1),
  );
  const objects = pages.flatMap((p) => p.items.map((i) => i.object));
  const rejections = pages.flatMap((p) => p.rejections);
  assert.deepEqual(patterns(objects), ["[ipv4-addr:value = '198.51.100.7']"]);
  assert.deepEqual(
    rejections.map((x) => x.reason),
    ['cidr_too_wide', 'cidr_too_wide'],
  );
  assertAllValid(objects);
});

const STIX1_NS =
  'xmlns:stix="http://stix.mitre.org/stix-1" xmlns:indicator="http://stix.mitre.org/Indicator-2" xmlns:cybox="http://cybox.mitre.org/cybox-2" xmlns:AddressObj="http://cybox.mitre.org/objects#AddressObject-2" xmlns:DomainNameObj="http://cybox.mitre.org/objects#DomainNameObject-1" xmlns:FileObj="http://cybox.mitre.org/objects#FileObject-2" xmlns:cyboxCommon="http://cybox.mitre.org/common-2" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
const addr = (v: string) =>
  `<cybox:Object><cybox:Properties xsi:type="AddressObj:AddressObjectType" category="ipv4-addr"><AddressObj:Address_Value condition="Equals">${v}</AddressObj:Address_Value></cybox:Properties></cybox:Object>`;
const domain = (v: string) =>
  `<cybox:Object><cybox:Properties xsi:type="DomainNameObj:DomainNameObjectType"><DomainNameObj:Value condition="Equals">${v}</DomainNameObj:Value></cybox:Properties></cybox:Object>`;
const md5 = (v: string) =>
  `<cybox:Object><cybox:Properties xsi:type="FileObj:FileObjectType"><FileObj:Hashes><cyboxCommon:Hash><cyboxCommon:Type>MD5</cyboxCommon:Type><cyboxCommon:Simple_Hash_Value condition="Equals">${v}</cyboxCommon:Simple_Hash_Value></cyboxCommon:Hash></FileObj:Hashes></cybox:Properties></cybox:Object>`;
const indicator = (n: number, body: string) =>
  `<stix:Indicator xsi:type="indicator:IndicatorType" id="x:indicator-00000000-0000-4000-8000-00000000000${n}" timestamp="2024-02-01T00:00:00Z"><indicator:Title>t${n}</indicator:Title><indicator:Observable>${body}</indicator:Observable></stix:Indicator>`;
const observable = (n: number, body: string) => `<cybox:Observable id="x:Observable-${n}">${body}</cybox:Observable>`;

const STIX1 = `<?xml version="1.0" encoding="UTF-8"?>
<stix:STIX_Package ${STIX1_NS} id="x:Package-1" version="1.2" timestamp="2024-02-03T04:05:06Z">
  <stix:Observables cybox_major_version="2" cybox_minor_version="1">
    ${observable(1, addr('999.1.1.1'))}
    ${observable(2, domain('evil example.com'))}
    ${observable(3, domain('evil&#x202E;moc.example.com'))}
    ${observable(4, md5('not a hash'))}
    ${observable(5, addr('198.51.100.9'))}
  </stix:Observables>
  <stix:Indicators>
    ${indicator(1, addr('999.1.1.1'))}
    ${indicator(2, domain('evil example.com'))}
    ${indicator(3, domain('ev&#x202E;il.example.com'))}
    ${indicator(4, md5('not a hash'))}
    ${indicator(5, addr('198.51.100.9'))}
  </stix:Indicators>
</stix:STIX_Package>`;

test('stix1: values that fail normalisation reject their indicator or observation (no raw fallback)', async () => {
  const r = await collectSource('stix1', file('pkg.xml', STIX1), { max_bad_ratio: 1 });
  assert.deepEqual(patterns(r.objects), ["[ipv4-addr:value = '198.51.100.9']"]);
  assert.deepEqual(
    r.objects.filter((o) => o.type === 'ipv4-addr').map((o) => o.value),
    ['198.51.100.9'],
  );
  assert.equal(r.objects.filter((o) => o.type === 'domain-name' || o.type === 'file').length, 0);
  assert.deepEqual(r.rejections.map((x) => x.reason).sort(), [
    'control_chars',
    'control_chars',
    'invalid_domain',
    'invalid_domain',
    'invalid_hash',
    'invalid_hash',
    'invalid_ipv4',
    'invalid_ipv4',
  ]);
  for (const x of r.rejections) {
    assert.equal(x.location?.source, 't');
    assert.equal(typeof x.location?.line, 'number');
  }
  assertAllValid(r.objects);
});

test('F19 stix1: a domain with NUL and a right-to-left override is rejected as control_chars, the message escaped', async () => {
  const r = await collectSource(
    'stix1',
    file(
      'nul.xml',
      STIX1.replace(indicator(2, domain('evil example.com')), indicator(2, domain('evil\u0000\u202E.com'))),
    ),
    { max_bad_ratio: 1 },
  );
  const nul = r.rejections.find((x) => x.location?.objectId === 'x:indicator-00000000-0000-4000-8000-000000000002');
  assert.equal(nul?.reason, 'control_chars');
  assert.match(must(nul, 'nul').message, /evil\\u0000\\u202e\.com/);
  assert.ok(!r.objects.some((o) => JSON.stringify(o).includes('\\u0000') || JSON.stringify(o).includes('\u202e')));
});

test('openioc: a hash term that is not a hash rejects the IOC', async () => {
  const ioc = (content: string) => `<?xml version="1.0" encoding="utf-8"?>
<ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="6d2a1b1e-1111-4111-8111-111111111111" last-modified="2024-01-01T00:00:00">
  <short_description>gate</short_description>
  <definition><Indicator operator="OR" id="a">
    <IndicatorItem id="b" condition="is"><Context document="FileItem" search="FileItem/Md5sum" type="mir"/><Content type="md5">${content}</Content></IndicatorItem>
  </Indicator></definition>
</ioc>`;
  const bad = await collectSource('openioc', file('bad.ioc', ioc('not a hash at all')), { max_bad_ratio: 1 });
  assert.deepEqual(
    bad.objects.filter((o) => o.type === 'indicator'),
    [],
  );
  assert.deepEqual(
    bad.rejections.map((x) => x.reason),
    ['invalid_hash'],
  );
  const good = await collectSource('openioc', file('good.ioc', ioc('D41D8CD98F00B204E9800998ECF8427E')), {
    max_bad_ratio: 1,
  });
  assert.deepEqual(patterns(good.objects), ["[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"]);
});

test('F14 stix_bundle: wrong property types are refused per object; a bundle whose objects is not a list is named', async () => {
  const id = (t: string, n: number) => `${t}--00000000-0000-4000-8000-00000000000${n}`;
  const base = { spec_version: '2.1', created: '2024-01-01T00:00:00Z', modified: '2024-01-01T00:00:00Z' };
  const okInd = {
    type: 'indicator',
    id: id('indicator', 1),
    ...base,
    pattern: "[ipv4-addr:value = '198.51.100.1']",
    pattern_type: 'stix',
    valid_from: '2024-01-01T00:00:00Z',
  };
  const objects = [
    okInd,
    { ...okInd, id: id('indicator', 2), name: 5 },
    { ...okInd, id: id('indicator', 3), indicator_types: 'malicious-activity' },
    { ...okInd, id: id('indicator', 4), kill_chain_phases: [{ kill_chain_name: 'k' }] },
    { ...okInd, id: id('indicator', 5), revoked: 'yes' },
    { type: 'ipv4-addr', id: id('ipv4-addr', 6), value: 5 },
    { type: 'file', id: id('file', 7), hashes: 'abc' },
    { ...okInd, id: id('indicator', 8), pattern: "[ipv4-addr:value = '0.0.0.0/0']" },
  ];
  const r = await collectSource(
    'stix_bundle',
    file('b.json', JSON.stringify({ type: 'bundle', id: id('bundle', 9), objects })),
    { max_bad_ratio: 1 },
  );
  assert.deepEqual(
    r.objects.map((o) => o.id),
    [id('indicator', 1)],
  );
  assert.deepEqual(
    r.rejections.map((x) => [x.reason, x.location?.objectId]),
    [
      ['bad_property', id('indicator', 2)],
      ['bad_property', id('indicator', 3)],
      ['bad_property', id('indicator', 4)],
      ['bad_property', id('indicator', 5)],
      ['bad_property', id('ipv4-addr', 6)],
      ['bad_property', id('file', 7)],
      ['cidr_too_wide', id('indicator', 8)],
    ],
  );
  // values inside bundles go through the same gate: an SCO with an invalid value, a pattern with an invalid hash
  const more = [
    { type: 'ipv4-addr', id: id('ipv4-addr', 1), value: '999.1.1.1' },
    { type: 'domain-name', id: id('domain-name', 2), value: 'evil example.com' },
    {
      ...okInd,
      id: id('indicator', 3),
      pattern: "[file:hashes.'SHA-256' = '#ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']",
    },
    { ...okInd, id: id('indicator', 4), pattern: "[url:value = 'http://0x7f.1/']" },
  ];
  const m = await collectSource(
    'stix_bundle',
    file('m.json', JSON.stringify({ type: 'bundle', id: id('bundle', 8), objects: more })),
    { max_bad_ratio: 1 },
  );
  assert.deepEqual(m.objects, []);
  assert.deepEqual(
    m.rejections.map((x) => x.reason),
    ['invalid_ipv4', 'invalid_domain', 'invalid_hash', 'invalid_url'],
  );
  const str = await collectSource(
    'stix_bundle',
    file('s.json', JSON.stringify({ type: 'bundle', id: id('bundle', 9), objects: JSON.stringify([okInd]) })),
    { max_bad_ratio: 1 },
  );
  assert.deepEqual(str.objects, []);
  assert.equal(str.rejections.length, 1);
  assert.match(must(str.rejections[0], 'str.rejections[0]').message, /bundle objects must be a list/);
});

test('runner: nothing that fails the gate is stored; rejections counted by reason; min_prefix is per source', async () => {
  const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
  try {
    const lines = [...TEXT.split('\n'), '10.0.0.0/8', '10.0.0.0/7', '2001:db8::/32', '2000::/15'].join('\n');
    const comp = sourceComponent('t', {
      type: 'text_list',
      url: pathToFileURL(file('runner.txt', lines)).href,
      max_bad_ratio: 1,
      min_prefix: { ipv4: 8, ipv6: 16 },
    });
    const sum = await runComponent(comp, store, FIXED_NOW, { allowRed: true });
    assert.deepEqual(sum.rejectedByReason, { cidr_too_wide: 4, invalid_url: 3 });
    assert.equal(sum.created, 4);
    const stored = (await store.query({ type: 'indicator', limit: 100 })).objects.map((o) => String(o.pattern)).sort();
    assert.deepEqual(stored, [
      "[ipv4-addr:value = '10.0.0.0/8']",
      "[ipv4-addr:value = '198.51.100.0/24']",
      "[ipv6-addr:value = '2001:db8::/32']",
      "[url:value = 'http://example.com/ok']",
    ]);
    const wide = sum.samples.find((s) => s.message.includes('10.0.0.0/7'));
    assert.deepEqual(wide?.location, { source: 't', objectId: wide?.location?.objectId });
    assert.equal(wide?.reason, 'cidr_too_wide');
  } finally {
    await store.close();
  }
});
