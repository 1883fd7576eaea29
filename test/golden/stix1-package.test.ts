/**
 * The `stix1` source over a package of our own (test/fixtures/xml/stix1-package.xml): every
 * construct kind, idrefs, relationships, TLP and statement markings, unmapped CybOX objects, and
 * the file / directory / HTTP inputs with their cursors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { copyFileSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { collectXmlSource } from '../helpers/xml-source.js';
import type { StixObject } from '../../src/core/stix.js';
import { must } from '../helpers/must.js';

const FIXTURE = join(PROJECT_ROOT, 'test', 'fixtures', 'xml', 'stix1-package.xml');
const AMBER = 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82';
const ACME = 'identity--00d38b26-f90f-5037-a52c-7f32f7256888';

function byId(objs: StixObject[]): Map<string, StixObject> {
  return new Map(objs.map((o) => [o.id, o]));
}

test('package constructs map to STIX 2.1 objects with the 1.x UUIDs', async () => {
  const r = await collectXmlSource('stix1', FIXTURE);
  assert.deepEqual(
    r.objects.map((o) => o.type),
    [
      'identity',
      'indicator',
      'indicator',
      'malware',
      'vulnerability',
      'course-of-action',
      'campaign',
      'threat-actor',
      'marking-definition',
      'ipv4-addr',
      'observed-data',
      'relationship',
      'relationship',
      'relationship',
      'relationship',
      'relationship',
      'report',
    ],
  );
  const m = byId(r.objects);
  const ind = must(
    m.get('indicator--33333333-3333-4333-8333-333333333333'),
    "m.get('indicator--33333333-3333-4333-8333-333333333333')",
  );
  assert.deepEqual(ind, {
    type: 'indicator',
    spec_version: '2.1',
    id: 'indicator--33333333-3333-4333-8333-333333333333',
    created: '2024-02-01T00:00:00.000Z',
    modified: '2024-02-01T00:00:00.000Z',
    name: 'Evil domain or URL',
    indicator_types: ['domain-watchlist'],
    // the domain is an idref to a package observable, canonicalised; the URL is refanged; the quote escaped
    pattern: "[domain-name:value = 'evil.example.com' OR url:value = 'http://evil.example.com/a\\'b']",
    pattern_type: 'stix',
    pattern_version: '2.1',
    valid_from: '2024-01-01T00:00:00.000Z',
    valid_until: '2025-01-01T00:00:00.000Z',
    confidence: 85,
    object_marking_refs: [AMBER],
    created_by_ref: ACME,
  });
  const dropper = must(
    m.get('indicator--66666666-6666-4666-8666-666666666666'),
    "m.get('indicator--66666666-6666-4666-8666-666666666666')",
  );
  assert.equal(dropper.pattern, "[file:name MATCHES '^drop' AND file:size > 1000]");
  assert.deepEqual(dropper.x_stix1_unmapped, [
    { cybox_type: 'WindowsHandleObjectType', id: 'acme:Object-77777777-7777-4777-8777-777777777777' },
  ]);
  // an indicator whose only object has no STIX 2.1 form is rejected, counted, with its location
  assert.deepEqual(r.rejections, [
    {
      reason: 'no_pattern',
      message:
        'indicator has no observable, composite expression or test mechanism that maps to a STIX 2.1 pattern (unmapped: WindowsHandleObjectType)',
      location: {
        source: 't',
        file: FIXTURE,
        line: 54,
        objectId: 'acme:indicator-88888888-8888-4888-8888-888888888888',
      },
    },
  ]);
  assert.equal(r.received, 18);
  assert.deepEqual(m.get('vulnerability--99999999-9999-4999-8999-999999999999')?.external_references, [
    { source_name: 'cve', external_id: 'CVE-2021-44228' },
  ]);
  assert.deepEqual(m.get('campaign--bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb')?.aliases, ['OpTest']);
  assert.deepEqual(m.get('malware--55555555-5555-4555-8555-555555555555')?.malware_types, ['remote-access-trojan']);
  // the statement marking applies to its construct only; TLP AMBER (package-wide) to every SDO/SRO
  const statement = must(
    r.objects.find((o) => o.type === 'marking-definition'),
    "r.objects.find((o) => o.type === 'marking-definition')",
  );
  assert.deepEqual(statement.definition, { statement: 'Do not share outside ACME' });
  assert.deepEqual(m.get('threat-actor--cccccccc-cccc-4ccc-8ccc-cccccccccccc')?.object_marking_refs, [
    statement.id,
    AMBER,
  ]);
  for (const o of r.objects) {
    if (o.type === 'marking-definition' || o.type === 'ipv4-addr') assert.equal(o.object_marking_refs, undefined, o.id);
    else assert.ok((o.object_marking_refs ?? []).includes(AMBER), o.id);
  }
  // an observable no indicator uses: observed-data + SCO with its deterministic SCO id
  assert.deepEqual(m.get('observed-data--11111111-1111-4111-8111-111111111111')?.object_refs, [
    'ipv4-addr--39090fdc-366e-571f-ab5b-d05e2918f88f',
  ]);
  const rels = r.objects
    .filter((o) => o.type === 'relationship')
    .map((o) => `${o.source_ref} ${o.relationship_type} ${o.target_ref}`);
  assert.deepEqual(rels, [
    'indicator--33333333-3333-4333-8333-333333333333 indicates malware--55555555-5555-4555-8555-555555555555',
    'malware--55555555-5555-4555-8555-555555555555 targets vulnerability--99999999-9999-4999-8999-999999999999',
    'course-of-action--aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa mitigates vulnerability--99999999-9999-4999-8999-999999999999',
    'campaign--bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb attributed-to threat-actor--cccccccc-cccc-4ccc-8ccc-cccccccccccc',
    'threat-actor--cccccccc-cccc-4ccc-8ccc-cccccccccccc uses malware--55555555-5555-4555-8555-555555555555',
  ]);
  const report = must(
    m.get('report--dddddddd-dddd-4ddd-8ddd-dddddddddddd'),
    "m.get('report--dddddddd-dddd-4ddd-8ddd-dddddddddddd')",
  );
  assert.deepEqual(report.object_refs, [
    'indicator--33333333-3333-4333-8333-333333333333',
    'campaign--bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
  ]);
  assert.deepEqual(report.report_types, ['indicators-watchlist']);
});

test('directory input: one page per *.xml file, a cursor over names+mtimes+sizes, a broken file is one rejection', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-stix1-dir-'));
  copyFileSync(FIXTURE, join(dir, 'a.xml'));
  writeFileSync(
    join(dir, 'b.xml'),
    '<stix:STIX_Package xmlns:stix="http://stix.mitre.org/stix-1"><unclosed></stix:STIX_Package>',
  );
  writeFileSync(join(dir, 'notes.txt'), 'ignored');
  const first = await collectXmlSource('stix1', `${dir}/`);
  assert.equal(first.pages, 2);
  assert.equal(first.objects.length, 17);
  assert.deepEqual(
    first.rejections.map((x) => [x.reason, x.location?.file]),
    [
      ['no_pattern', join(dir, 'a.xml')],
      ['xml_syntax', join(dir, 'b.xml')],
    ],
  );
  assert.match(first.cursor ?? '', /^\{"dir_sha256":"[0-9a-f]{64}","files":2\}$/);
  const again = await collectXmlSource('stix1', `${dir}/`, {}, first.cursor);
  assert.equal(again.pages, 0);
  utimesSync(join(dir, 'b.xml'), new Date(2030, 0, 1), new Date(2030, 0, 1));
  const changed = await collectXmlSource('stix1', `${dir}/`, {}, first.cursor);
  assert.equal(changed.pages, 2);
  assert.notEqual(changed.cursor, first.cursor);
  assert.deepEqual(changed.objects, first.objects);
});

test('HTTP input on loopback: conditional GET with the ETag cursor', async (t) => {
  const body = (await import('node:fs')).readFileSync(FIXTURE);
  let gets = 0;
  const server = createServer((req, res) => {
    gets++;
    if (req.headers['if-none-match'] === '"v1"') {
      res.writeHead(304).end();
      return;
    }
    res
      .writeHead(200, {
        'content-type': 'application/xml',
        etag: '"v1"',
        'last-modified': 'Sat, 03 Feb 2024 04:05:06 GMT',
      })
      .end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed.xml`;
  const opts = { allow_private: true, allow_insecure: true };
  const a = await collectXmlSource('stix1', url, opts);
  assert.equal(a.objects.length, 17);
  assert.match(a.cursor ?? '', /"etag":"\\"v1\\""/);
  const b = await collectXmlSource('stix1', url, opts, a.cursor);
  assert.equal(b.pages, 0);
  assert.equal(gets, 2);
});

test('a document that is not a STIX 1.x package is one rejection', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-stix1-'));
  writeFileSync(join(dir, 'x.xml'), '<rss><channel/></rss>');
  const r = await collectXmlSource('stix1', join(dir, 'x.xml'));
  assert.deepEqual(
    r.rejections.map((x) => x.reason),
    ['not_stix1'],
  );
  assert.equal(r.objects.length, 0);
});
