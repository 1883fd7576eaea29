import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { it } from 'node:test';
import Database from 'better-sqlite3';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import {
  CRASH_BATCH,
  CRASH_BATCHES,
  CRASH_TOTAL,
  contentHash,
  crashBatch,
  idsOfBatch,
  oracleHash,
} from './crash-workload.js';
import { T0, indicatorFor, prng } from './fixtures.js';

const TRIALS = Number(process.env.STIXGATE_CRASH_TRIALS ?? 20);
const SEED = Number(process.env.STIXGATE_CRASH_SEED ?? 20240301);
const CHILD = new URL('./crash-child.ts', import.meta.url).pathname;

/** Runs the child and SIGKILLs it a random moment after it reports batch `killAfter`. */
function runAndKill(
  dataDir: string,
  killAfter: number,
  delayMs: number,
): Promise<{ lastSeen: number; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lastSeen = -1;
    let stderr = '';
    let armed = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const kill = () => {
      if (!armed) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    };
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^batch (\d+)$/.exec(line);
      if (m) lastSeen = Number(m[1]);
      if ((killAfter < 0 && line === 'open') || lastSeen >= killAfter) kill();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL' && code !== 0) reject(new Error(`child failed (${code}): ${stderr}`));
      else resolve({ lastSeen, killed: signal === 'SIGKILL' });
    });
  });
}

it(`P1: kill -9 at random moments during ingest loses nothing and never runs the cursor ahead (${TRIALS} trials)`, {
  timeout: TRIALS * 30_000,
}, async () => {
  const rand = prng(SEED);
  let killedMidRun = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    const dir = mkdtempSync(join(tmpdir(), 'stixgate-crash-'));
    const where = `seed ${SEED} trial ${trial}`;
    try {
      const killAfter = Math.floor(rand() * (CRASH_BATCHES + 1)) - 1;
      const { lastSeen, killed } = await runAndKill(dir, killAfter, Math.floor(rand() * 40));
      if (killed && lastSeen < CRASH_BATCHES - 1) killedMidRun++;

      const raw = new Database(join(dir, 'stixgate.db'), { readonly: true, fileMustExist: true });
      assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok', where);
      raw.close();

      const store = await openEmbeddedStore({ dataDir: dir });
      const c = await store.getCursor('batch');
      const cursor = c === undefined ? -1 : Number(c);
      assert.ok(cursor >= lastSeen, `${where}: a reported commit was lost (cursor ${cursor} < ${lastSeen})`);
      const stats = await store.stats();
      // a batch and its cursor commit together: exactly the batches up to the cursor are there
      assert.equal(stats.objects, (cursor + 1) * CRASH_BATCH, where);
      for (let k = 0; k <= cursor; k++)
        assert.equal((await store.getMany(idsOfBatch(k))).size, CRASH_BATCH, `${where} batch ${k}`);
      if (cursor + 1 < CRASH_BATCHES) assert.equal((await store.getMany(idsOfBatch(cursor + 1))).size, 0, where);

      for (let k = cursor + 1; k < CRASH_BATCHES; k++)
        await store.upsert(crashBatch(k), { now: T0, cursors: { batch: String(k) } });
      const final = await store.stats();
      assert.equal(final.objects, CRASH_TOTAL, where);
      assert.equal(final.changeLogHead, CRASH_TOTAL, `${where}: one change per object, no duplicates`);
      const seen = new Set<string>();
      for (let after = 0; ; ) {
        const p = await store.changes(after, 5000);
        if (p.changes.length === 0) break;
        for (const ch of p.changes) {
          assert.equal(seen.has(ch.id), false, `${where}: duplicate ${ch.id}`);
          seen.add(ch.id);
        }
        after = p.next;
      }
      assert.equal(seen.size, CRASH_TOTAL);
      for (let n = 0; n < CRASH_TOTAL; n += 997) {
        const o = await store.get(indicatorFor(n).id);
        assert.ok(o, `${where}: ${n} missing`);
        assert.equal(contentHash(o), oracleHash(n), `${where}: ${n} content`);
        assert.deepEqual(Object.keys(o.x_stixgate?.sources ?? {}), ['crash']);
      }
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  assert.ok(killedMidRun >= TRIALS / 2, `only ${killedMidRun} of ${TRIALS} kills landed mid-ingest`);
});
