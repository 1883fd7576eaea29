import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedStore } from '../../src/store/embedded/store.js';
import { IndexFollower, LookupIndex } from '../../src/lookup/index.js';
import { T0, indicator } from './fixtures.js';
import { turnsDuring } from '../helpers/turns.js';

test('a long catch-up applies one page per event-loop turn (lookups are answered between pages)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-follow-'));
  // the in-thread store answers without a turn of its own: every turn counted is the follower's
  const store = new EmbeddedStore({ dataDir: dir });
  await store.open();
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const n = 2_050;
  const items = Array.from({ length: n }, (_, i) => {
    const { x_stixgate: _drop, ...object } = indicator({
      n: i + 1,
      pattern: `[ipv4-addr:value = '10.0.${(i >> 8) & 255}.${i & 255}']`,
    });
    return { object, source: 'feed_a' };
  });
  await store.upsert(items, { now: T0 });
  const index = new LookupIndex({ now: () => T0 });
  const follower = new IndexFollower(store, index, { from: 0, now: () => T0, pageSize: 500 });
  const { turns } = await turnsDuring(() => follower.tick());
  assert.equal(follower.seq, n);
  assert.equal(index.size, n);
  // pages of 500, 500, 500, 500, 50: a turn after each full page
  assert.ok(turns >= 4, `turns: ${turns}`);
  assert.equal(index.lookup('10.0.3.255', T0, 'amber').matched, true);
});
