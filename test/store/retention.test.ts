import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openEmbeddedStore, openThreadedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/contract.js';
import { applyRetention } from '../../src/daemon-retention.js';
import { DEFAULT_RETENTION } from '../../src/store/retention.js';
import { NOW, ind, iso } from '../delivery/sink-run-kit.js';
import { runRetentionCases, type RetentionRig } from './retention-cases.js';

/** Retention on the embedded store (the cases of retention-cases.ts), in-process and through the writer thread. */
const dirs = new WeakMap<Store, string>();

function rigOf(open: (dataDir: string) => Promise<Store>): RetentionRig {
  return {
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'stixgate-retention-store-'));
      const store = await open(dir);
      dirs.set(store, dir);
      return store;
    },
    cleanup: async (store) => {
      await store.close();
      const dir = dirs.get(store);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

runRetentionCases(
  'embedded',
  rigOf((dataDir) => openEmbeddedStore({ dataDir })),
);
runRetentionCases(
  'embedded (writer thread)',
  rigOf((dataDir) => openThreadedStore({ dataDir })),
);

test('embedded: after the newest change is deleted and the store reopened, the next change is numbered above it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-retention-seq-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let store = await openEmbeddedStore({ dataDir: dir });
  const x = ind('198.18.0.7', { valid_until: iso(NOW + 1000) });
  await store.upsert([{ object: x, source: 'feed', tlp: 'clear' }], { now: NOW });
  await store.expire(NOW + 2000);
  const last = await store.head();
  const r = await applyRetention(store, DEFAULT_RETENTION, {}, NOW + 31 * 86_400_000);
  assert.deepEqual([r.expired, r.purgedThrough], [1, last]);
  await store.close();
  store = await openEmbeddedStore({ dataDir: dir });
  t.after(() => store.close());
  assert.equal(await store.head(), last, 'the head does not fall back to an older change');
  await store.upsert([{ object: ind('198.18.0.8'), source: 'feed', tlp: 'clear' }], { now: NOW });
  const page = await store.changes(last, 10);
  assert.equal(page.changes.length, 1);
  assert.ok(page.next > last);
  assert.equal((await store.stats()).objects, 1);
});
