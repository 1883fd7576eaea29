import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { registry } from '../../integrations/index.js';
import { parseConfig } from '../../src/config/load.js';
import { COMMAND_HOT_CACHE_ENTRIES, openStore } from '../../src/config/open-store.js';
import { openEmbeddedStore, type ThreadedStore } from '../../src/store/embedded/index.js';
import { T0, indicatorFor } from './fixtures.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'stixgate-hot-bound-'));
}

test('the unchanged-upsert cache holds at most its bound however many objects an ingest writes', async () => {
  const dir = tmp();
  const bound = 300;
  const store = await openEmbeddedStore({ dataDir: dir, hotCacheSize: bound });
  try {
    const held: number[] = [];
    let n = 0;
    for (const batch of [100, 200, 400, 800, 1_600]) {
      const items = [];
      for (let i = 0; i < batch; i++) items.push({ object: indicatorFor(++n), source: 'feed' });
      await store.upsert(items, { now: T0 });
      held.push(store.hotCacheEntries());
    }
    // it fills up to the bound, then stays there while the store grows to 10× the bound
    assert.deepEqual(held, [100, 300, 300, 300, 300]);
    // a re-poll of the newest objects still finds them unchanged through the cache
    const again = [];
    for (let i = n - bound + 1; i <= n; i++) again.push({ object: indicatorFor(i), source: 'feed' });
    const r = await store.upsert(again, { now: T0 });
    assert.equal(r.unchanged, bound);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one-shot commands open the store with a command-sized cache, the daemon with the default', async () => {
  const dir = tmp();
  try {
    const { config } = parseConfig(JSON.stringify({ sources: {} }), { file: 'test.yaml', registry });
    const command = (await openStore(config, join(dir, 'a'), 'command')) as ThreadedStore;
    try {
      assert.equal(command.opts.hotCacheSize, COMMAND_HOT_CACHE_ENTRIES);
      assert.equal(await command.hotCacheEntries(), 0);
    } finally {
      await command.close();
    }
    const daemon = (await openStore(config, join(dir, 'b'))) as ThreadedStore;
    try {
      assert.equal(daemon.opts.hotCacheSize, undefined, 'the daemon keeps the store default');
    } finally {
      await daemon.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
