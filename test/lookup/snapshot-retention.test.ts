import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { buildIndex } from '../../src/lookup/build.js';
import { IndexFollower } from '../../src/lookup/follower.js';
import { SnapshotKeeper } from '../../src/lookup/snapshot-keeper.js';
import { DEFAULT_POLICY } from '../../src/access/policy.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { applyRetention } from '../../src/daemon-retention.js';
import { DEFAULT_RETENTION } from '../../src/store/retention.js';
import { NOW, ind, iso } from '../delivery/sink-run-kit.js';
import { must } from '../helpers/must.js';

const DAY = 86_400_000;

test('a lookup snapshot older than what retention deleted is refused: its catch-up would miss the deleted revoke and keep answering the value', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-snapshot-retention-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openEmbeddedStore({ dataDir: dir });
  t.after(() => store.close());
  const x = ind('198.51.100.50');
  const y = ind('198.51.100.51');
  await store.upsert(
    [x, y].map((object) => ({ object, source: 'feed', tlp: 'clear' as const })),
    { now: NOW },
  );
  const keeper = () =>
    new SnapshotKeeper({ dataDir: dir, store, access: DEFAULT_POLICY, logger: silentLogger(), intervalMs: 0 });
  const built = await buildIndex(store, { now: () => NOW });
  await keeper().save(built.index, new IndexFollower(store, built.index, { from: built.seq }));
  assert.equal(built.index.lookup('198.51.100.50', NOW, 'clear').matched, true);

  // the snapshot is usable while nothing was deleted after it (the revoke is caught up from the change log)
  await store.upsert([{ object: { ...y, revoked: true, modified: iso(NOW + 1000) }, source: 'feed', tlp: 'clear' }], {
    now: NOW + 2 * 3_600_000,
  });
  const caughtUp = must(await keeper().load({ now: () => NOW }), 'the restored index');
  assert.equal(caughtUp.lookup('198.51.100.51', NOW, 'clear').matched, false);

  // x is revoked and deleted by retention after the snapshot was written
  await store.upsert([{ object: { ...x, revoked: true, modified: iso(NOW + 1000) }, source: 'feed', tlp: 'clear' }], {
    now: NOW + 2 * 3_600_000,
  });
  const r = await applyRetention(store, DEFAULT_RETENTION, {}, NOW + 40 * DAY);
  assert.equal(r.revoked, 2);
  assert.equal(
    await keeper().load({ now: () => NOW }),
    undefined,
    'refused: the index is built from the store instead',
  );
  const rebuilt = await buildIndex(store, { now: () => NOW });
  assert.equal(rebuilt.index.lookup('198.51.100.50', NOW, 'clear').matched, false);
});
