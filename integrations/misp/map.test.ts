import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../test/helpers/corpus.js';
import { deterministicId } from '../../src/core/ids.js';
import type { StixObject } from '../../src/core/stix.js';
import { MAPPINGS_DIR } from '../../src/paths.js';
import { eventsOf, mapEvent } from './map.js';
import { loadMispTable } from './table.js';
import { must } from '../../test/helpers/must.js';
import { StixgateError } from '../../src/core/errors.js';
import { mapAttributeValue } from './attribute.js';

const table = loadMispTable(MAPPINGS_DIR);
const fixture = JSON.parse(readFileSync(join(PROJECT_ROOT, 'test/fixtures/misp/event-all-types.json'), 'utf8'));
const U = (k: number, n: number) =>
  `${k.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const AMBER = 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421';
const RED = 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1';

function run() {
  const [ev] = eventsOf(fixture);
  const r = mapEvent(must(ev, 'ev'), { now: '2026-03-01T12:00:00.000Z', table, name: 'fixture' });
  return { r, byId: new Map<string, StixObject>(r.items.map((i) => [i.object.id, i.object])) };
}

const EXPECTED: Record<number, string> = {
  1: "[ipv4-addr:value = '203.0.113.5']",
  2: "[ipv6-addr:value = '2001:db8::1']",
  3: "[network-traffic:src_ref.type = 'ipv4-addr' AND network-traffic:src_ref.value = '203.0.113.6' AND network-traffic:src_port = 4444]",
  4: "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443]",
  5: "[domain-name:value = 'evil.example.com']",
  6: "[domain-name:value = 'c2.evil.example']",
  7: "[domain-name:value = 'dropper.example' AND domain-name:resolves_to_refs[*].value = '192.0.2.10']",
  8: "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'relay.example' AND network-traffic:dst_port = 8080]",
  9: "[url:value = 'http://evil.example/payload.exe']",
  10: "[url:value = 'http://evil.example/gate.php']",
  11: "[url:value = 'https://blog.example/report']",
  12: "[email-addr:value = 'phisher@evil.example']",
  13: "[email-message:from_ref.value = 'sender@evil.example']",
  14: "[email-message:to_refs[*].value = 'victim@corp.example']",
  15: "[email-message:additional_header_fields.'Reply-To' = 'reply@evil.example']",
  16: "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
  17: "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
  18: "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
  19: "[file:hashes.'SHA-512' = 'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e']",
  20: "[file:hashes.SSDEEP = '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C']",
  21: "[file:name = 'evil.exe' AND file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
  22: "[file:name = 'evil.dll' AND file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
  23: "[file:name = 'invoice.pdf.exe']",
  24: "[mutex:name = 'Global\\\\EvilMutex']",
  25: '[autonomous-system:number = 64500]',
  26: "[mac-addr:value = '00:1a:2b:3c:4d:5e']",
  27: "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Software\\\\Evil']",
  28: "[windows-registry-key:key = 'HKEY_CURRENT_USER\\\\Software\\\\Run' AND windows-registry-key:values[*].data = 'C:\\\\evil.exe']",
  29: "[x509-certificate:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
  32: 'rule x { condition: true }',
  42: "[domain-name:value = 'sighted.example']",
};

test('misp map: every table type gives its pattern under indicator--<attribute uuid>', () => {
  const { r, byId } = run();
  const indicators = r.items.map((i) => i.object).filter((o) => o.type === 'indicator');
  const attrIndicators = indicators.filter((o) => o.id.startsWith('indicator--00000002-'));
  assert.deepEqual(Object.fromEntries(attrIndicators.map((o) => [parseInt(o.id.slice(-12), 16), o.pattern])), EXPECTED);
  for (const [n] of Object.entries(EXPECTED)) {
    const ind = must(byId.get(`indicator--${U(2, Number(n))}`), 'byId.get(`indicator--${U(2, Number(n))}`)');
    assert.equal(ind.valid_from, '2026-01-01T00:00:00.000Z');
    assert.deepEqual(ind.object_marking_refs, [Number(n) === 42 ? RED : AMBER]);
    assert.equal(ind.created_by_ref, `identity--${U(3, 1)}`);
    assert.deepEqual(ind.kill_chain_phases, [{ kill_chain_name: 'misp-category', phase_name: 'network-activity' }]);
    assert.equal(ind.pattern_type, Number(n) === 32 ? 'yara' : 'stix');
    assert.equal(ind.pattern_version, Number(n) === 32 ? undefined : '2.1');
  }
  assert.deepEqual(
    must(byId.get(`vulnerability--${U(2, 33)}`), 'byId.get(`vulnerability--${U(2, 33)}`)').external_references,
    [{ source_name: 'cve', external_id: 'CVE-2024-3400' }],
  );
  assert.equal(
    must(byId.get(`vulnerability--${U(2, 33)}`), 'byId.get(`vulnerability--${U(2, 33)}`)').name,
    'CVE-2024-3400',
  );
  assert.equal(must(byId.get(`campaign--${U(2, 34)}`), 'byId.get(`campaign--${U(2, 34)}`)').name, 'Operation Fixture');
  assert.deepEqual(must(byId.get(`indicator--${U(2, 1)}`), 'byId.get(`indicator--${U(2, 1)}`)').labels, [
    'misp:type="ip-src"',
    'PAP:GREEN',
    'admiralty-scale:source-reliability="b"',
    'misp-galaxy:sector="Finance"',
  ]);
  // objects: one indicator per object with a to_ids attribute, from its to_ids attributes only (the
  // file name is not to_ids); types apart are separate observations
  assert.equal(
    must(byId.get(`indicator--${U(5, 1)}`), 'byId.get(`indicator--${U(5, 1)}`)').pattern,
    "[file:hashes.MD5 = '0cc175b9c0f1b6a831c399e269772661' AND file:hashes.'SHA-256' = 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb']",
  );
  assert.equal(
    must(byId.get(`indicator--${U(5, 2)}`), 'byId.get(`indicator--${U(5, 2)}`)').pattern,
    "[domain-name:value = 'cdn.evil.example'] AND [ipv4-addr:value = '192.0.2.50']",
  );
  assert.equal(byId.get(`indicator--${U(5, 3)}`), undefined); // url object without to_ids
  // every object is one observation; the file's name and hashes are one file SCO
  const fileObs = must(byId.get(`observed-data--${U(5, 1)}`), 'byId.get(`observed-data--${U(5, 1)}`)');
  assert.equal((fileObs.object_refs as string[]).length, 1);
  assert.deepEqual(
    {
      ...must(
        byId.get(must((fileObs.object_refs as string[])[0], '(fileObs.object_refs as string[])[0]')),
        'byId.get((fileObs.object_refs as string[])[0])',
      ),
      id: undefined,
      object_marking_refs: undefined,
    },
    {
      type: 'file',
      spec_version: '2.1',
      id: undefined,
      object_marking_refs: undefined,
      name: 'dropper.exe',
      hashes: {
        MD5: '0cc175b9c0f1b6a831c399e269772661',
        'SHA-256': 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb',
      },
    },
  );
  assert.deepEqual(
    (must(byId.get(`observed-data--${U(5, 3)}`), 'byId.get(`observed-data--${U(5, 3)}`)').object_refs as string[]).map(
      (id) => must(byId.get(id), 'byId.get(id)').type,
    ),
    ['url'],
  );
  assert.equal(indicators.length, Object.keys(EXPECTED).length + 2);
});

test('misp map: context, unknown, bad, deleted and non-to_ids attributes', () => {
  const { r, byId } = run();
  assert.deepEqual(
    r.rejections.map((x) => [x.reason, x.location?.objectId]),
    [['invalid_ipv4', U(2, 41)]],
  );
  assert.deepEqual([...r.unknownTypes], [['x-custom-type', 1]]);
  for (const [n, type] of [
    [30, 'text'],
    [31, 'comment'],
    [35, 'x-custom-type'],
  ] as const) {
    const o = must(byId.get(`x-misp-attribute--${U(2, n)}`), 'byId.get(`x-misp-attribute--${U(2, n)}`)');
    assert.equal(o.x_misp_type, type);
    assert.deepEqual(o.object_marking_refs, [AMBER]);
  }
  assert.equal(
    must(byId.get(`x-misp-attribute--${U(6, 4)}`), 'byId.get(`x-misp-attribute--${U(6, 4)}`)').x_misp_type,
    'size-in-bytes',
  );
  assert.equal(byId.get(`indicator--${U(2, 40)}`), undefined);
  assert.ok([...byId.values()].some((o) => o.type === 'ipv4-addr' && o.value === '192.0.2.99'));
  assert.ok(![...byId.values()].some((o) => o.value === '192.0.2.200')); // deleted
  assert.equal(r.attributes, 39 + 7); // 39 event attributes, 7 in objects
  assert.equal(r.maxTimestamp, 1767225600);
});

test('misp map: galaxies, relationships, sightings and the report', () => {
  const { r, byId } = run();
  const ap = must(byId.get(`attack-pattern--${U(4, 1)}`), 'byId.get(`attack-pattern--${U(4, 1)}`)');
  assert.equal(ap.name, 'Phishing');
  assert.deepEqual(ap.external_references, [
    { source_name: 'mitre-attack', external_id: 'T1566', url: 'https://attack.mitre.org/techniques/T1566' },
  ]);
  assert.equal(must(byId.get(`malware--${U(4, 2)}`), 'byId.get(`malware--${U(4, 2)}`)').is_family, true);
  assert.equal(must(byId.get(`threat-actor--${U(7, 1)}`), 'byId.get(`threat-actor--${U(7, 1)}`)').name, 'APT Example');
  const rels = r.items.map((i) => i.object).filter((o) => o.type === 'relationship');
  // 30 attribute indicators with STIX patterns × 2 event galaxies + the threat actor of attribute 42 + 2 object indicators × 2
  // + 2 object indicators based-on their observed-data (the yara rule indicator is not linked:
  // rules say how to detect, not what they indicate)
  assert.equal(rels.length, 30 * 2 + 1 + 2 * 2 + 2);
  const ind42 = `indicator--${U(2, 42)}`;
  assert.ok(byId.has(deterministicId('relationship', `indicates|${ind42}|threat-actor--${U(7, 1)}`)));
  const sightings = r.items.map((i) => i.object).filter((o) => o.type === 'sighting');
  assert.equal(sightings.length, 1);
  assert.deepEqual(
    { ...sightings[0], id: undefined },
    {
      type: 'sighting',
      spec_version: '2.1',
      id: undefined,
      created: '2026-01-01T02:00:00.000Z',
      modified: '2026-01-01T02:00:00.000Z',
      sighting_of_ref: ind42,
      count: 2,
      first_seen: '2026-01-01T01:00:00.000Z',
      last_seen: '2026-01-01T02:00:00.000Z',
      object_marking_refs: [RED],
    },
  );
  const report = must(r.items.at(-1), 'r.items.at(-1)').object;
  assert.equal(report.id, `report--${U(1, 1)}`);
  assert.equal(report.published, '2026-01-01T01:00:00.000Z');
  assert.deepEqual(report.object_marking_refs, [AMBER]);
  // the report holds everything but the TLP 2.0 marking-definitions the tags reference, which the bundle carries once each
  const markings = r.items
    .filter((i) => i.object.type === 'marking-definition')
    .map((i) => i.object.id)
    .sort();
  assert.deepEqual(markings, [AMBER, RED].sort());
  assert.deepEqual(
    new Set(report.object_refs as string[]),
    new Set(
      r.items
        .slice(0, -1)
        .filter((i) => i.object.type !== 'marking-definition')
        .map((i) => i.object.id),
    ),
  );
});

test('misp map: deterministic (same input → same output); the table is checked in test/mappings/tables.test.ts', () => {
  assert.deepEqual(run().r.items, run().r.items);
});

test('issue 14 time model (docs/scoring.md): each record is seen at its last_seen, else its own timestamp, else the event timestamp', () => {
  const ev = {
    uuid: U(9, 1),
    info: 'dates',
    timestamp: '1767225600', // 2026-01-01
    Attribute: [
      {
        uuid: U(9, 2),
        type: 'domain',
        to_ids: true,
        value: 'a.example',
        timestamp: '1767312000',
        last_seen: '2026-01-05T10:00:00.000000+00:00',
      },
      { uuid: U(9, 3), type: 'domain', to_ids: true, value: 'b.example', timestamp: '1767312000' },
      { uuid: U(9, 4), type: 'domain', to_ids: true, value: 'c.example' },
      {
        uuid: U(9, 5),
        type: 'domain',
        to_ids: false,
        value: 'd.example',
        first_seen: '2026-01-03T00:00:00Z',
        last_seen: '2026-01-04T00:00:00Z',
      },
    ],
    Object: [
      {
        uuid: U(9, 6),
        name: 'domain-ip',
        timestamp: '1767398400',
        last_seen: '2026-01-06T00:00:00Z',
        Attribute: [{ uuid: U(9, 7), type: 'domain', to_ids: true, value: 'e.example' }],
      },
      {
        uuid: U(9, 8),
        name: 'domain-ip',
        timestamp: '1767398400',
        Attribute: [{ uuid: U(9, 9), type: 'domain', to_ids: true, value: 'f.example' }],
      },
    ],
  };
  const r = mapEvent(ev, { now: '2026-03-01T12:00:00.000Z', table, name: 't' });
  const seen = new Map(r.items.map((i) => [i.object.id, i.seenAt]));
  assert.equal(seen.get(`indicator--${U(9, 2)}`), '2026-01-05T10:00:00.000Z');
  assert.equal(seen.get(`indicator--${U(9, 3)}`), '2026-01-02T00:00:00.000Z');
  assert.equal(seen.get(`indicator--${U(9, 4)}`), '2026-01-01T00:00:00.000Z');
  assert.equal(seen.get(`observed-data--${U(9, 5)}`), '2026-01-04T00:00:00.000Z');
  assert.equal(seen.get(`indicator--${U(9, 6)}`), '2026-01-06T00:00:00.000Z');
  assert.equal(seen.get(`indicator--${U(9, 8)}`), '2026-01-03T00:00:00.000Z');
  const od = must(
    r.items.find((i) => i.object.id === `observed-data--${U(9, 5)}`),
    'r.items.find((i) => i.object.id === `observed-data--${U(9...',
  ).object;
  assert.deepEqual([od.first_observed, od.last_observed], ['2026-01-03T00:00:00.000Z', '2026-01-04T00:00:00.000Z']);
});

test('an object attribute tagged with a more restrictive TLP raises the whole object (never a TLP downgrade through merging); its tags are kept', () => {
  const ev = {
    uuid: U(10, 1),
    info: 'tlp',
    timestamp: '1767225600',
    Tag: [{ name: 'tlp:amber' }],
    Object: [
      {
        uuid: U(10, 2),
        name: 'file',
        timestamp: '1767225600',
        Attribute: [
          {
            uuid: U(10, 3),
            type: 'filename',
            to_ids: false,
            value: 'secret-name.exe',
            Tag: [{ name: 'tlp:red' }, { name: 'source:partner' }],
          },
          { uuid: U(10, 4), type: 'md5', to_ids: true, value: '0cc175b9c0f1b6a831c399e269772661' },
        ],
      },
    ],
  };
  const r = mapEvent(ev, { now: '2026-03-01T12:00:00.000Z', table, name: 't' });
  const byId = new Map(r.items.map((i) => [i.object.id, i.object]));
  const od = must(byId.get(`observed-data--${U(10, 2)}`), 'byId.get(`observed-data--${U(10, 2)}`)');
  assert.deepEqual(od.object_marking_refs, [RED]);
  for (const ref of od.object_refs as string[])
    assert.deepEqual(must(byId.get(ref), 'byId.get(ref)').object_marking_refs, [RED]);
  assert.deepEqual(must(byId.get(`indicator--${U(10, 2)}`), 'byId.get(`indicator--${U(10, 2)}`)').object_marking_refs, [
    RED,
  ]);
  assert.ok(
    (must(byId.get(`indicator--${U(10, 2)}`), 'byId.get(`indicator--${U(10, 2)}`)').labels as string[]).includes(
      'source:partner',
    ),
  );
});

test('a table rule built in code without its handler parameter is a configuration error naming it', () => {
  assert.throws(
    () => mapAttributeValue({ handler: 'hash' }, 'd41d8cd98f00b204e9800998ecf8427e'),
    (e: unknown) =>
      e instanceof StixgateError &&
      e.code === 'STIXGATE_ERR_CONFIG_INVALID' &&
      e.reason === 'table_parameter_missing' &&
      /handler hash needs `algorithm`/.test(e.message),
  );
  assert.throws(() => mapAttributeValue({ handler: 'sco', sco: 'mutex' }, 'm'), /handler sco needs `property`/);
  // the same rules with their parameters map
  assert.equal(mapAttributeValue({ handler: 'hash', algorithm: 'MD5' }, 'd41d8cd98f00b204e9800998ecf8427e').ok, true);
  assert.equal(mapAttributeValue({ handler: 'sco', sco: 'mutex', property: 'name' }, 'm').ok, true);
});
