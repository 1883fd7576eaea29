import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { detectObservable } from '../../src/core/observable.js';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { SplunkSimulator } from '../../integrations/splunk/simulator.js';
import { prng } from '../store/fixtures.js';

/**
 * FAULTS P2 through the real command: `stixgate push` to the Splunk KV simulator is killed with
 * SIGKILL after a random number of acknowledged batches, then run again to completion. Every value
 * must arrive, and the batches sent twice must not exceed one per crash (the sink commits its
 * cursor after every acknowledged batch; concurrency 1).
 */
const N = 2000;
const BATCH = 100;
const TRIALS = Number(process.env.STIXGATE_CRASH_TRIALS ?? 10);
const CLI = join(PROJECT_ROOT, 'src', 'cli.ts');
const APP = 'search';
const COLLECTION = 'crash_push';

function push(config: string, dataDir: string) {
  return spawn(process.execPath, ['--import', 'tsx', CLI, 'push', 'kv', '--config', config, '--data-dir', dataDir], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

function batchSaves(sim: SplunkSimulator): number {
  return sim.requests.filter((r) => r.path.endsWith('/batch_save') && r.status === 200).length;
}

test(`P2: kill -9 during push (${TRIALS} trials): every value delivered, at most one batch repeated per crash`, { timeout: 600_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'stixgate-crash-push-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const template = join(root, 'template');
  const store = await openEmbeddedStore({ dataDir: template });
  const values: string[] = [];
  const items = [];
  for (let i = 0; i < N; i++) {
    const v = i % 2 ? `10.9.${(i >> 8) & 255}.${i & 255}` : `host${i}.push-crash.example`;
    const r = detectObservable(v);
    if (!r.ok) throw new Error(r.message);
    values.push(r.observable.value);
    items.push({ object: indicatorFromObservable(r.observable, { now: '2026-01-01T00:00:00.000Z' }), source: 'feed', confidence: 80 });
  }
  await store.upsert(items, { now: Date.parse('2026-01-01T00:00:00Z') });
  await store.close();

  const rand = prng(7);
  let repeated = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    const sim = new SplunkSimulator();
    const { base } = await sim.start();
    sim.inject({ target: 'kv', delayMs: 15, times: 1_000_000 });
    const dataDir = join(root, `t${trial}`);
    cpSync(template, dataDir, { recursive: true });
    const config = join(root, `t${trial}.yaml`);
    writeFileSync(config, [
      `data_dir: ${dataDir}`,
      'sinks:',
      '  kv:',
      '    type: splunk_kv',
      `    url: ${base}`,
      '    auth: { username: admin, password: changeme }',
      `    collection: ${COLLECTION}`,
      `    app: ${APP}`,
      '    allow_private: true',
      '    allow_insecure: true',
      '    max_tlp: amber',
      `    batch_size: ${BATCH}`,
      '    concurrency: 1',
      '',
    ].join('\n'));
    try {
      // kill once between 1 and N/BATCH - 1 acknowledged batches
      const killAfter = 1 + Math.floor(rand() * (N / BATCH - 1));
      const child = push(config, dataDir);
      const exit = new Promise<number | null>((res) => child.on('exit', (code, signal) => res(signal ? -9 : code)));
      const watch = setInterval(() => {
        if (batchSaves(sim) >= killAfter) child.kill('SIGKILL');
      }, 1);
      const first = await exit;
      clearInterval(watch);
      assert.equal(first, -9, `trial ${trial}: the push finished before the kill (after ${batchSaves(sim)} batches)`);
      const before = batchSaves(sim);
      assert.ok(before < N / BATCH, `trial ${trial}: killed mid-push`);
      const again = push(config, dataDir);
      let err = '';
      again.stderr.on('data', (d) => (err += d));
      const code = await new Promise<number | null>((res) => again.on('exit', (c) => res(c)));
      assert.equal(code, 0, `trial ${trial}: second push failed: ${err}`);
      const docs = sim.documents(APP, COLLECTION);
      assert.deepEqual(docs.map((d) => d.indicator).sort(), [...values].sort(), `trial ${trial}: every value exactly once in the collection`);
      const extra = batchSaves(sim) - N / BATCH;
      assert.ok(extra >= 0 && extra <= 1, `trial ${trial}: ${extra} batches repeated after one crash`);
      repeated += extra;
    } finally {
      await sim.close();
    }
  }
  t.diagnostic(`${TRIALS} crashes, ${repeated} batch(es) repeated in total`);
});
