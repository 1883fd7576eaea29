import assert from 'node:assert/strict';
import { test } from 'node:test';
import type Database from 'better-sqlite3';
import { Correlator } from '../../src/correlate/index.js';
import { openCorrelationDb } from '../../src/correlate/db.js';
import { installMirrorTriggers, MirrorLoader, MirrorReader } from '../../src/correlate/mirror.js';
import { CASE_BATCHES, CASES_CAP } from './shared-cases.js';
import { NOW, rig } from './fixtures.js';

const TABLES = ['node', 'val', 'hold', 'ip4', 'ip6', 'cidrlen', 'host', 'vlink', 'edge', 'meta', 'dict', 'counter'];
const dump = (db: Database.Database) => TABLES.map((t) => db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).all());

test('the change capture: every changed row once across slices (upserts included), and loading the documents rebuilds the index', async (t) => {
  const r = await rig(t);
  let db: Database.Database | undefined;
  let reader: MirrorReader | undefined;
  const c = new Correlator({
    dataDir: ':memory:',
    maxFanout: CASES_CAP,
    onOpen: (d) => {
      installMirrorTriggers(d);
      reader = new MirrorReader(d);
      db = d;
    },
  });
  t.after(() => c.close());
  // every batch in its own catch-up, nothing cleared in between: rows (meta seq, values, nodes)
  // are changed again by later slices and upserts
  for (const batch of CASE_BATCHES) {
    await r.store.upsert(
      batch.map((object) => ({ object, source: 'feed_a' })),
      { now: NOW },
    );
    await c.catchUp(r.store, { pageSize: 5 });
  }
  const images = reader?.images() ?? [];
  const ids = images.map(([id]) => id);
  assert.equal(new Set(ids).size, ids.length, 'each row once');
  assert.ok(ids.includes('meta:seq'));
  assert.ok(images.some(([id, doc]) => id.startsWith('vlink:') && doc !== null));

  const copy = openCorrelationDb(':memory:').db;
  const loader = new MirrorLoader(copy);
  for (const [, doc] of images) if (doc) loader.load(doc);
  assert.ok(db);
  assert.deepEqual(dump(copy), dump(db), 'the documents hold every row of every table');
  copy.close();
  reader?.clearDirty();
  assert.equal(reader?.pending(), 0);
});
