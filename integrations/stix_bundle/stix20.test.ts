import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectSource } from '../../test/helpers/collect.js';
import { isStixgateError } from '../../src/core/errors.js';
import { must } from '../../test/helpers/must.js';

const dir = mkdtempSync(join(tmpdir(), 'stix20-'));
function file(name: string, body: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(body));
  return p;
}

const T = '2026-01-10T08:00:00.000Z';
const OD = {
  type: 'observed-data',
  id: 'observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf',
  created: T,
  modified: T,
  first_observed: T,
  last_observed: T,
  number_observed: 2,
  objects: {
    '0': { type: 'ipv4-addr', value: '198.51.100.3' },
    '1': { type: 'ipv4-addr', value: '203.0.113.9' },
    '2': { type: 'network-traffic', src_ref: '0', dst_ref: '1', dst_port: 443, protocols: ['tcp'] },
    '3': {
      type: 'file',
      name: 'invoice.exe',
      hashes: { 'SHA-256': 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' },
      created: T,
    },
  },
};
// ids computed by python-stix2 3.0.2 (stix2.v21.IPv4Address(value=…).id and so on), not by our code
const IDS = {
  a: 'ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4',
  b: 'ipv4-addr--39090fdc-366e-571f-ab5b-d05e2918f88f',
  traffic: 'network-traffic--0e06a3ea-d052-563f-bfa2-b2c000e62e9c',
  file: 'file--2bf91b43-2c03-5453-a683-2763815175b8',
};
const IND = {
  type: 'indicator',
  id: 'indicator--a932fcc6-e032-476c-826f-cb970a5a1ade',
  created: T,
  modified: T,
  valid_from: T,
  labels: ['malicious-activity'],
  pattern: "[ipv4-addr:value = '198.51.100.3']",
};
const REPORT_NO_NAME = {
  type: 'report',
  id: 'report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3',
  created: T,
  modified: T,
  published: T,
  object_refs: [IND.id],
};

test('STIX 2.0 observed-data: objects become 2.1 SCOs with §2.9 ids, object_refs replace objects, refs and renamed properties follow', async () => {
  const r = await collectSource(
    'stix_bundle',
    file('od.json', {
      type: 'bundle',
      id: 'bundle--44af6c39-c09b-49c5-9de2-394224b04982',
      spec_version: '2.0',
      objects: [OD],
    }),
  );
  assert.deepEqual(r.rejections, []);
  const od = must(
    r.objects.find((o) => o.type === 'observed-data'),
    "r.objects.find((o) => o.type === 'observed-data')",
  );
  assert.equal(od.spec_version, '2.1');
  assert.equal(od.objects, undefined);
  assert.deepEqual(od.object_refs, [IDS.a, IDS.b, IDS.traffic, IDS.file]);
  const byId = new Map(r.objects.map((o) => [o.id, o]));
  assert.deepEqual(byId.get(IDS.traffic), {
    type: 'network-traffic',
    spec_version: '2.1',
    id: IDS.traffic,
    src_ref: IDS.a,
    dst_ref: IDS.b,
    dst_port: 443,
    protocols: ['tcp'],
  });
  assert.deepEqual(byId.get(IDS.a), { type: 'ipv4-addr', spec_version: '2.1', id: IDS.a, value: '198.51.100.3' });
  // 2.0 file.created is 2.1 file.ctime
  assert.deepEqual(byId.get(IDS.file), {
    type: 'file',
    spec_version: '2.1',
    id: IDS.file,
    name: 'invoice.exe',
    hashes: { 'SHA-256': 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' },
    ctime: T,
  });
  assert.equal(r.objects.length, 5);
  // deterministic: the same input gives the same objects
  const again = await collectSource('stix_bundle', file('od2.json', [OD]));
  assert.deepEqual(again.objects, r.objects);
});

test('STIX 2.0 observed-data: a reference to a missing key or a non-SCO member rejects that observed-data with the reason', async () => {
  const dangling = {
    ...OD,
    id: 'observed-data--0c3e9a3c-4a0e-4a54-bf52-6b6f0e1c1a01',
    objects: { '0': { type: 'network-traffic', src_ref: '7', protocols: ['tcp'] } },
  };
  const sdo = {
    ...OD,
    id: 'observed-data--0c3e9a3c-4a0e-4a54-bf52-6b6f0e1c1a02',
    objects: { '0': { type: 'indicator', pattern: 'x' } },
  };
  const badValue = {
    ...OD,
    id: 'observed-data--0c3e9a3c-4a0e-4a54-bf52-6b6f0e1c1a03',
    objects: { '0': { type: 'ipv4-addr', value: '999.1.1.1' } },
  };
  const r = await collectSource('stix_bundle', file('bad-od.json', [dangling, sdo, badValue, IND]));
  assert.deepEqual(
    r.objects.map((o) => o.id),
    [IND.id],
  );
  assert.deepEqual(
    r.rejections.map((x) => [x.reason, x.location?.objectId]),
    [
      ['bad_ref', dangling.id],
      ['bad_property', sdo.id],
      ['invalid_ipv4', badValue.id],
    ],
  );
  assert.match(must(r.rejections[0], 'r.rejections[0]').message, /src_ref "7" names no object of this observed-data/);
  assert.match(must(r.rejections[2], 'r.rejections[2]').message, /observed-data object ipv4-addr ipv4-addr--/);
});

test('a small bundle keeps its good objects when one is bad: a report without name rejects that report only', async () => {
  const r = await collectSource(
    'stix_bundle',
    file('small.json', {
      type: 'bundle',
      id: 'bundle--44af6c39-c09b-49c5-9de2-394224b04983',
      objects: [IND, OD, REPORT_NO_NAME],
    }),
  );
  assert.deepEqual(
    r.rejections.map((x) => [x.reason, x.message, x.location?.objectId]),
    [['missing_property', 'report has no name', REPORT_NO_NAME.id]],
  );
  assert.ok(r.objects.some((o) => o.id === IND.id));
  assert.ok(r.cursor, 'the document is accepted: its cursor is committed');
});

test('max_bad_ratio is judged from bad_ratio_min_records records on (default 10, configurable)', async () => {
  const bad = (i: number) => ({
    ...REPORT_NO_NAME,
    id: `report--84e4d88f-44ea-4bcd-bbf3-b2c1c320b${String(i).padStart(3, '0')}`,
  });
  const good = (i: number) => ({
    ...IND,
    id: `indicator--a932fcc6-e032-476c-826f-cb970a5a1${String(i).padStart(3, '0')}`,
  });
  // 10 records, 5 bad: judged (50% > 20%), refused
  const ten = file('ten.json', [...[0, 1, 2, 3, 4].map(bad), ...[0, 1, 2, 3, 4].map(good)]);
  await assert.rejects(
    collectSource('stix_bundle', ten),
    (e: unknown) => isStixgateError(e) && e.reason === 'too_many_bad_rows',
  );
  // 9 records, 5 bad: below the minimum, each bad one rejected and the document accepted
  const nine = await collectSource(
    'stix_bundle',
    file('nine.json', [...[0, 1, 2, 3, 4].map(bad), ...[0, 1, 2, 3].map(good)]),
  );
  assert.equal(nine.rejections.length, 5);
  assert.equal(nine.objects.length, 4);
  assert.ok(nine.cursor);
  // the minimum is configurable: 3 records with one bad is refused when judged from 3 on
  await assert.rejects(
    collectSource('stix_bundle', file('three.json', [IND, OD, REPORT_NO_NAME]), { bad_ratio_min_records: 3 }),
    (e: unknown) => isStixgateError(e) && e.reason === 'too_many_bad_rows',
  );
});
