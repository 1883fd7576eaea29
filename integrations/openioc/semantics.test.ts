/**
 * OpenIOC meaning kept (issue 14): an item and its same-object sub-tree are one observation, full
 * paths compared with `contains` are split into name and directory, a `contains` of a complete
 * domain or address is also findable by lookup, unknown conditions are listed with their reason.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectXmlSource } from '../../test/helpers/xml-source.js';
import { indicatorObservables } from '../../src/core/object-observables.js';
import { must } from '../../test/helpers/must.js';

const dir = mkdtempSync(join(tmpdir(), 'openioc-sem-'));

function item(search: string, condition: string, content: string): string {
  const doc = search.split('/')[0];
  return `<IndicatorItem id="${search}-${condition}" condition="${condition}"><Context document="${doc}" search="${search}" type="mir"/><Content type="string">${content}</Content></IndicatorItem>`;
}

function ioc(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(
    p,
    `<?xml version="1.0"?><ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="6c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5" last-modified="2025-11-03T09:30:00">
<short_description>t</short_description><authored_date>2025-11-01T08:00:00</authored_date><definition>${body}</definition></ioc>`,
  );
  return p;
}

async function pattern(
  name: string,
  body: string,
): Promise<{ pattern: string; unmapped: unknown; observables: unknown }> {
  const r = await collectXmlSource('openioc', ioc(name, body));
  assert.deepEqual(r.rejections, []);
  const ind = must(
    r.objects.find((o) => o.type === 'indicator'),
    "r.objects.find((o) => o.type === 'indicator')",
  );
  return { pattern: String(ind.pattern), unmapped: ind.x_openioc_unmapped, observables: indicatorObservables(ind) };
}

test('an AND node: the item and its same-object sub-tree are one process observation; another object stays its own', async () => {
  const r = await pattern(
    'and.ioc',
    `<Indicator operator="AND" id="a">${item('ProcessItem/name', 'is', 'rundl132.exe')}` +
      `<Indicator operator="OR" id="b">${item('ProcessItem/path', 'contains', 'Temp')}${item('ProcessItem/path', 'contains', 'AppData')}</Indicator>` +
      `${item('PortItem/remotePort', 'is', '8443')}</Indicator>`,
  );
  assert.equal(
    r.pattern,
    "[process:image_ref.name = 'rundl132.exe' AND (process:image_ref.parent_directory_ref.path MATCHES 'Temp' OR process:image_ref.parent_directory_ref.path MATCHES 'AppData')]" +
      ' AND [network-traffic:dst_port = 8443]',
  );
});

test('FileItem/FullPath contains …\\x.exe is matchable: the name on file:name, the directory on parent_directory_ref.path', async () => {
  const r = await pattern(
    'path.ioc',
    `<Indicator operator="OR" id="a">${item('FileItem/FullPath', 'contains', '\\Microsoft\\Crypto\\msupd.exe')}</Indicator>`,
  );
  assert.equal(
    r.pattern,
    "[(file:name MATCHES '^msupd\\\\.exe' AND file:parent_directory_ref.path MATCHES '\\\\\\\\Microsoft\\\\\\\\Crypto$')]",
  );
});

test('contains of a complete domain or address keeps MATCHES and is found by lookup; unknown conditions are listed with their reason', async () => {
  const r = await pattern(
    'contains.ioc',
    `<Indicator operator="OR" id="a">${item('DnsEntryItem/Host', 'contains', 'cdn-sync.example.org')}${item('PortItem/remoteIP', 'contains', '203.0.113.5')}` +
      `${item('FileItem/SizeInBytes', 'greaterthen', '4096')}</Indicator>`,
  );
  assert.equal(
    r.pattern,
    "[(domain-name:value MATCHES 'cdn-sync\\\\.example\\\\.org' OR domain-name:value = 'cdn-sync.example.org')]" +
      " OR [(network-traffic:dst_ref.value MATCHES '203\\\\.0\\\\.113\\\\.5' OR network-traffic:dst_ref.value = '203.0.113.5')]",
  );
  assert.deepEqual(r.observables, [
    { type: 'domain-name', value: 'cdn-sync.example.org' },
    { type: 'ipv4-addr', value: '203.0.113.5' },
  ]);
  assert.deepEqual(r.unmapped, [
    { search: 'FileItem/SizeInBytes', condition: 'greaterthen', content: '4096', reason: 'unknown_condition' },
  ]);
});

test('record time (docs/scoring.md §2a): the IOC last-modified, else authored_date, on the indicator only', async () => {
  const { parseXmlString } = await import('../../src/core/safe-xml.js');
  const { loadOpenIocTerms, mapOpenIoc } = await import('./map.js');
  const { PROJECT_ROOT } = await import('../../test/helpers/corpus.js');
  const terms = loadOpenIocTerms(join(PROJECT_ROOT, 'mappings'));
  const doc = (attrs: string, authored: string) =>
    `<ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="6c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d6" ${attrs}><authored_date>${authored}</authored_date>` +
    `<definition><Indicator operator="OR" id="a">${item('FileItem/Md5sum', 'is', 'd41d8cd98f00b204e9800998ecf8427e')}</Indicator></definition></ioc>`;
  const map = (xml: string) =>
    mapOpenIoc(parseXmlString(Buffer.from(xml), { name: 'x' }).root, {
      sourceId: 't',
      fallbackTime: '2026-02-01T00:00:00.000Z',
      terms,
    }).seenAt;
  assert.equal(map(doc('last-modified="2025-11-03T09:30:00"', '2025-11-01T08:00:00')), '2025-11-03T09:30:00.000Z');
  assert.equal(map(doc('', '2025-11-01T08:00:00')), '2025-11-01T08:00:00.000Z');
  assert.equal(map(doc('', '0001-01-01T00:00:00')), undefined);
});
