import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadSinkMapping } from '../../src/delivery/records.js';
import { indicator, viewRecords } from '../../test/helpers/sink-kit.js';
import { xsoarSink } from './index.js';
import { config, ictx, NOW, records, runContext, startSim } from './test-kit.js';
import { must } from '../../test/helpers/must.js';

/**
 * Where the mapped fields go (CONTRACT.md "Fields sent"). The swagger lists no `fields` among
 * `/indicators/feed/json`'s indicator properties ("Builds indicators according to the specified feed
 * classifier"), while `IocObject.CustomFields` of `/indicator/edit` is the documented place for them.
 * The simulator drops keys the server does not define, and with `feedFields: 'drop'` models a feed
 * classifier that maps none of the raw fields.
 */

const extra = {
  labels: ['c2'],
  object_marking_refs: ['marking-definition--f88d31f6-486f-44da-b317-01333bde0b82'],
  valid_until: new Date(NOW + 90 * 60_000).toISOString(),
};

test('a field key the server does not define is dropped by XSOAR without an error (the strict simulator does the same)', async (t) => {
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const s = xsoarSink.create(config(base, { mapping: 'integrations/xsoar/testdata/undefined-field.yaml' }), ictx);
  const table = loadSinkMapping(join(ictx.configDir, 'integrations/xsoar/testdata/undefined-field.yaml')).fields;
  const recs = viewRecords(indicator('198.51.100.7', 80, extra), 1, 'upsert', table);
  assert.deepEqual(
    (await s.upsert(recs, ctx)).map((o) => o.status),
    ['ok'],
  );
  const fields = must(sim.indicator('198.51.100.7'), "sim.indicator('198.51.100.7')").CustomFields;
  assert.deepEqual(fields.tags, ['c2']);
  assert.equal('stixgateconfidence' in fields, false);
  assert.deepEqual(sim.droppedFields(), { stixgateconfidence: 1 });
});

test('fields_via: feed loses the fields when the feed classifier maps none; fields_via: edit writes them with /indicator/edit, once', async (t) => {
  const { sim, base } = await startSim(t, { feedFields: 'drop' });
  const ctx = runContext(t);
  const recs = records(['198.51.100.7', 'evil.example'], 'upsert', 80, extra);
  await xsoarSink.create(config(base), ictx).upsert(recs, ctx);
  assert.deepEqual(
    must(sim.indicator('198.51.100.7'), "sim.indicator('198.51.100.7')").CustomFields,
    {},
    'not carried through feed/json here',
  );

  const viaEdit = xsoarSink.create(config(base, { fields_via: 'edit' }), ictx);
  assert.deepEqual(
    (await viaEdit.upsert(recs, ctx)).map((o) => o.status),
    ['ok', 'ok'],
  );
  const ip = must(sim.indicator('198.51.100.7'), "sim.indicator('198.51.100.7')");
  assert.deepEqual(
    [ip.CustomFields.trafficlightprotocol, ip.CustomFields.tags, ip.CustomFields.stixid],
    ['AMBER', ['c2'], must(recs[0], 'recs[0]').object.id],
  );
  assert.equal(ip.manualScore, false, "fields only: the verdict stays the feed's");
  const feeds = sim.requests.filter((q) => q.path === '/indicators/feed/json');
  assert.equal(feeds.length, 2);
  const edits = () => sim.requests.filter((q) => q.path === '/indicator/edit').length;
  assert.equal(edits(), 2);
  await viaEdit.upsert(recs, ctx);
  assert.equal(edits(), 2, 'a resend finds the fields in place and edits nothing');
  // the edited indicator counts as hand-edited in XSOAR: a removal withdraws stixgate's contribution instead of deleting it
  await viaEdit.remove(records(['198.51.100.7'], 'remove'), ctx);
  assert.ok(sim.indicator('198.51.100.7'), 'kept');
  assert.equal(sim.requests.filter((q) => q.path === '/indicators/batchDelete').length, 0);
});

test('XSOAR 8: a server without feed/json under /xsoar/public/v1 is named with the api_path to set; api_path: /xsoar works there', async (t) => {
  const { sim, base } = await startSim(t, { feedUnderPublicV1: false });
  const ctx = runContext(t);
  await assert.rejects(
    xsoarSink.create(config(base, { version: 8, auth_id: 1 }), ictx).upsert(records(['198.51.100.7']), ctx),
    /feed\/json answered 404 under .*\/xsoar\/public\/v1: set api_path .*demisto-py .*\/xsoar/,
  );
  assert.deepEqual(
    (
      await xsoarSink
        .create(config(base, { version: 8, auth_id: 1, api_path: '/xsoar' }), ictx)
        .upsert(records(['198.51.100.7']), ctx)
    ).map((o) => o.status),
    ['ok'],
  );
  assert.deepEqual(
    sim.requests.map((q) => `${q.path} ${q.status}`),
    ['/xsoar/public/v1/indicators/feed/json 404', '/xsoar/indicators/feed/json 201'],
  );
});
