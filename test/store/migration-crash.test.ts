import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SCHEMA_VERSION, openEmbeddedStore } from '../../src/store/embedded/index.js';
import { indicatorFor, ipFor, prng } from './fixtures.js';
import { V1_INSERT, createV1Store } from './v1-store.js';

const N = 10_000;
const TRIALS = 4;

/**
 * Opens (and so migrates) the store in a child process. `ms` is the time from the open call to its
 * end; with `killAfterMs` the child is killed that long after the open call.
 */
function migrateInChild(dataDir: string, killAfterMs?: number): Promise<{ completed: boolean; ms: number }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `import('./src/store/embedded/index.ts').then((m) => { console.log('opening'); return m.openEmbeddedStore({ dataDir: ${JSON.stringify(dataDir)} }); }).then((s) => s.close()).then(() => console.log('migrated'))`,
    ],
    { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  let t0 = 0;
  let timer: NodeJS.Timeout | undefined;
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (t0 === 0 && out.includes('opening')) {
      t0 = Date.now();
      if (killAfterMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    }
  });
  return new Promise((resolve) =>
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ completed: out.includes('migrated'), ms: Date.now() - t0 });
    }),
  );
}

/**
 * The data directory after a kill: still version 1 with every row, version 2 with every object and
 * its keys, version 3 (counts) with every object counted, version 4 (the delivery ledger's tables) or
 * version 5 (the score history's table) or version 6 (the index of ended objects).
 */
async function assertWholeVersion(dataDir: string, trial: number): Promise<1 | 2 | 3 | 4 | 5 | 6> {
  const raw = new Database(join(dataDir, 'stixgate.db'));
  const version = raw.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get();
  const rows = raw.prepare('SELECT count(*) FROM objects').pluck().get();
  const v1Values = raw.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'object_values'").pluck().get();
  const keyRows = version === '1' ? 0 : raw.prepare('SELECT count(*) FROM object_keys').pluck().get();
  const counts = raw.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'counts'").pluck().get();
  const ledger = raw
    .prepare("SELECT count(*) FROM sqlite_master WHERE name IN ('ledger', 'ledger_strings')")
    .pluck()
    .get();
  const history = raw.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'score_history'").pluck().get();
  const ended = raw.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'objects_ended'").pluck().get();
  raw.close();
  assert.equal(rows, N, `trial ${trial}: every object is still there`);
  if (version === '1') {
    assert.equal(v1Values, 1, `trial ${trial}: a version 1 file keeps its value table`);
    return 1;
  }
  assert.equal(keyRows, N, `trial ${trial}: every object has its keys`);
  if (version === '2') {
    assert.equal(counts, 0, `trial ${trial}: a version 2 file has no counts yet`);
    return 2;
  }
  if (version === '3') {
    assert.equal(ledger, 0, `trial ${trial}: a version 3 file has no ledger yet`);
    return 3;
  }
  assert.equal(ledger, 2, `trial ${trial}: the ledger's tables`);
  if (version === '4') {
    assert.equal(history, 0, `trial ${trial}: a version 4 file has no score history yet`);
    return 4;
  }
  assert.equal(history, 1, `trial ${trial}: the score history's table`);
  if (version === '5') {
    assert.equal(ended, 0, `trial ${trial}: a version 5 file has no index of ended objects yet`);
    return 5;
  }
  assert.equal(ended, 1, `trial ${trial}: the index of ended objects`);
  assert.equal(version, String(SCHEMA_VERSION), `trial ${trial}`);
  const s = await openEmbeddedStore({ dataDir, readonly: true });
  try {
    assert.equal((await s.stats()).objects, N, `trial ${trial}`);
    assert.equal(await s.getCursor('feed'), '42');
    assert.deepEqual(
      (await s.query({ value: ipFor(N - 1) })).objects.map((o) => o.id),
      [indicatorFor(N - 1).id],
    );
  } finally {
    await s.close();
  }
  return 6;
}

test(`P10: kill -9 at random moments of a schema migration (${TRIALS} trials) leaves a whole version (1 to 6); the next open migrates`, {
  timeout: 300_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-migrate-'));
  try {
    const v1 = join(dir, 'v1');
    mkdirSync(v1);
    const db = createV1Store(v1);
    const ins = db.prepare(V1_INSERT);
    db.transaction(() => {
      for (let i = 0; i < N; i++) {
        const ind = indicatorFor(i);
        ins.run(i + 1, ind.id, 'indicator', null, i + 1, `ipv4-addr\t${ipFor(i)}`, JSON.stringify(ind));
      }
    })();
    db.close();
    // one uninterrupted run gives the window to kill in
    const whole = join(dir, 'whole');
    mkdirSync(whole);
    copyFileSync(join(v1, 'stixgate.db'), join(whole, 'stixgate.db'));
    const full = await migrateInChild(whole);
    assert.equal(full.completed, true);
    assert.equal(await assertWholeVersion(whole, 0), SCHEMA_VERSION);

    const rand = prng(18);
    const seen: number[] = [];
    for (let trial = 1; trial <= TRIALS; trial++) {
      const d = join(dir, `t${trial}`);
      mkdirSync(d);
      copyFileSync(join(v1, 'stixgate.db'), join(d, 'stixgate.db'));
      await migrateInChild(d, Math.floor(rand() * full.ms));
      seen.push(await assertWholeVersion(d, trial));
      // the next open finishes the job
      assert.equal((await migrateInChild(d)).completed, true, `trial ${trial}: the store opens after the kill`);
      assert.equal(await assertWholeVersion(d, trial), SCHEMA_VERSION);
    }
    console.log(`versions found after the kills: ${seen.join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
