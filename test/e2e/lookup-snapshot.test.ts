import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon } from '../../src/daemon.js';
import { registry } from '../../integrations/index.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { detectObservable } from '../../src/core/observable.js';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { LOOKUP_SNAPSHOT_FILE } from '../../src/lookup/snapshot.js';
import { SNAPSHOT_CURSOR } from '../../src/lookup/snapshot-keeper.js';
import { must } from '../helpers/must.js';

const NOW = Date.now();

/** Stores indicators for `values` directly (as `stixgate ingest` does while no daemon runs). */
async function ingest(dataDir: string, values: string[]): Promise<void> {
  const store = await openEmbeddedStore({ dataDir });
  try {
    const items = values.map((v) => {
      const d = detectObservable(v);
      if (!d.ok) throw new Error(d.reason);
      return {
        object: indicatorFromObservable(d.observable, { now: new Date(NOW).toISOString(), labels: ['test'] }),
        source: 'feed',
        confidence: 80,
        tlp: 'clear' as const,
      };
    });
    await store.upsert(items, { now: NOW });
  } finally {
    await store.close();
  }
}

async function run(cfgPath: string, probe: (base: string) => Promise<void>): Promise<Record<string, unknown>[]> {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (s: string) => void logs.push(JSON.parse(s) as Record<string, unknown>) },
  });
  const daemon = new Daemon({ configPath: cfgPath, registry, logger, port: 0 });
  await daemon.start();
  try {
    await probe(must(daemon.address, 'daemon.address'));
  } finally {
    await daemon.stop();
  }
  return logs;
}

async function matched(base: string, value: string): Promise<boolean> {
  const r = (await (await fetch(`${base}/api/v1/lookup?value=${encodeURIComponent(value)}`)).json()) as {
    matched: boolean;
  };
  return r.matched;
}

const said = (logs: Record<string, unknown>[], msg: RegExp) =>
  logs.find((l) => typeof l.msg === 'string' && msg.test(l.msg));

test('restart: the lookup index comes back from its snapshot, caught up with what was stored while the daemon was down; another store is never served from it', {
  timeout: 120_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-lookup-snapshot-'));
  const data = join(dir, 'data');
  const cfgPath = join(dir, 'stixgate.yaml');
  writeFileSync(cfgPath, `data_dir: ${data}\nserver:\n  anonymous_lookup: true\ncorrelation:\n  enabled: false\n`);
  try {
    await ingest(data, ['198.51.100.7', 'evil-a.example']);

    // first start: no snapshot yet, the index is built from the store; the clean stop writes one
    const first = await run(cfgPath, async (base) => {
      assert.equal(await matched(base, '198.51.100.7'), true);
    });
    assert.match(String(said(first, /snapshot not used/)?.reason), /no snapshot token/);
    assert.ok(said(first, /snapshot written/), 'the clean stop writes the snapshot');
    assert.ok(existsSync(join(data, LOOKUP_SNAPSHOT_FILE)));
    {
      // the token is the store's bookkeeping: kept as an internal cursor, left out of the statistics
      const store = await openEmbeddedStore({ dataDir: data });
      try {
        assert.ok(await store.getCursor(SNAPSHOT_CURSOR));
        assert.deepEqual(
          Object.keys((await store.stats()).cursors).filter((k) => k.includes('snapshot')),
          [],
        );
      } finally {
        await store.close();
      }
    }

    // stored while the daemon was down: the restored index catches up from the change log
    await ingest(data, ['evil-b.example']);
    const second = await run(cfgPath, async (base) => {
      assert.equal(await matched(base, '198.51.100.7'), true, 'restored from the snapshot');
      assert.equal(await matched(base, 'x.evil-a.example'), true, 'parent-domain matching works on the restored index');
      assert.equal(await matched(base, 'evil-b.example'), true, 'caught up from the change log');
      assert.equal(await matched(base, 'evil-c.example'), false);
    });
    const restored = said(second, /restored from its snapshot/);
    assert.ok(restored, 'the second start restores the index from the snapshot');
    assert.equal(restored.indicators, 3, 'two from the snapshot, one caught up');
    assert.equal(restored.caughtUp, 1);
    assert.equal(said(second, /snapshot not used/), undefined);

    // the store replaced under the snapshot (a new data directory, the old snapshot file kept):
    // the tokens differ, so the index is built from the new store and the old values are gone
    const snapshot = join(dir, 'kept.snapshot');
    renameSync(join(data, LOOKUP_SNAPSHOT_FILE), snapshot);
    rmSync(data, { recursive: true, force: true });
    await ingest(data, ['evil-c.example']);
    copyFileSync(snapshot, join(data, LOOKUP_SNAPSHOT_FILE));
    const third = await run(cfgPath, async (base) => {
      assert.equal(await matched(base, '198.51.100.7'), false, 'nothing of the old store is served');
      assert.equal(await matched(base, 'evil-c.example'), true);
    });
    assert.match(String(said(third, /snapshot not used/)?.reason), /no snapshot token/);
    // the new store now holds its own token: the old file is refused for that reason
    renameSync(snapshot, join(data, LOOKUP_SNAPSHOT_FILE));
    const fourth = await run(cfgPath, async (base) => {
      assert.equal(await matched(base, '198.51.100.7'), false);
      assert.equal(await matched(base, 'evil-c.example'), true);
    });
    assert.match(String(said(fourth, /snapshot not used/)?.reason), /store has changed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lookup.snapshot: false builds the index from the store at every start and writes no snapshot', {
  timeout: 120_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-lookup-snapshot-'));
  const data = join(dir, 'data');
  const cfgPath = join(dir, 'stixgate.yaml');
  writeFileSync(
    cfgPath,
    `data_dir: ${data}\nserver:\n  anonymous_lookup: true\ncorrelation:\n  enabled: false\nlookup:\n  snapshot: false\n`,
  );
  try {
    await ingest(data, ['198.51.100.9']);
    const logs = await run(cfgPath, async (base) => {
      assert.equal(await matched(base, '198.51.100.9'), true);
    });
    assert.equal(said(logs, /snapshot/), undefined);
    assert.equal(existsSync(join(data, LOOKUP_SNAPSHOT_FILE)), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
