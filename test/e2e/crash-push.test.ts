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
import { DEFAULT_MAX_IN_FLIGHT_RECORDS } from '../../src/delivery/runner.js';
import { prng } from '../store/fixtures.js';

/**
 * FAULTS P2 through the real command: `stixgate push` to the Splunk KV simulator is killed with
 * SIGKILL after a random number of acknowledged batches, then run again to completion. Every value
 * must arrive, and what is sent twice must stay within what was in flight at the kill: one batch
 * with concurrency 1; at the default settings (no batch_size, concurrency or
 * max_in_flight_records configured) at most 2,000 values per crash.
 */
const TRIALS = Number(process.env.STIXGATE_CRASH_TRIALS ?? 10);
const CLI = join(PROJECT_ROOT, 'src', 'cli.ts');
const APP = 'search';
const COLLECTION = 'crash_push';

function push(config: string, dataDir: string) {
  return spawn(process.execPath, ['--import', 'tsx', CLI, 'push', 'kv', '--config', config, '--data-dir', dataDir], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function batchSaves(sim: SplunkSimulator): number {
  return sim.requests.filter((r) => r.path.endsWith('/batch_save') && r.status === 200).length;
}

/** Counts the documents the simulator saved through batch_save (values received, repeats included). */
function countSaved(sim: SplunkSimulator): () => number {
  let saved = 0;
  const data = sim.kv.data.bind(sim.kv);
  sim.kv.data = (method, app, name, rest, raw, ...more) => {
    const r = data(method, app, name, rest, raw, ...more);
    if (rest === 'batch_save' && r.status === 200) saved += (JSON.parse(raw.toString('utf8')) as unknown[]).length;
    return r;
  };
  return () => saved;
}

/** A store template holding `n` indicators (half domains, half addresses). */
async function template(root: string, n: number): Promise<{ dir: string; values: string[] }> {
  const dir = join(root, `template-${n}`);
  const store = await openEmbeddedStore({ dataDir: dir });
  const values: string[] = [];
  const items = [];
  for (let i = 0; i < n; i++) {
    const v = i % 2 ? `10.9.${(i >> 8) & 255}.${i & 255}` : `host${i}.push-crash.example`;
    const r = detectObservable(v);
    if (!r.ok) throw new Error(r.message);
    values.push(r.observable.value);
    items.push({
      object: indicatorFromObservable(r.observable, { now: '2026-01-01T00:00:00.000Z' }),
      source: 'feed',
      confidence: 80,
    });
  }
  await store.upsert(items, { now: Date.parse('2026-01-01T00:00:00Z') });
  await store.close();
  return { dir, values };
}

interface Trial {
  /** Batches the first push needs (the kill lands between 1 and this - 1 acknowledged batches). */
  batches: number;
  /** Extra sink keys (batch size, concurrency); none = the defaults. */
  sinkKeys: string[];
}

/** One crash and recovery; returns how many batches and values were sent twice. */
async function trial(root: string, name: string, tpl: { dir: string; values: string[] }, o: Trial, rand: () => number) {
  const sim = new SplunkSimulator();
  const { base } = await sim.start();
  const saved = countSaved(sim);
  sim.inject({ target: 'kv', delayMs: 15, times: 1_000_000 });
  const dataDir = join(root, name);
  cpSync(tpl.dir, dataDir, { recursive: true });
  const config = join(root, `${name}.yaml`);
  writeFileSync(
    config,
    [
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
      ...o.sinkKeys.map((k) => `    ${k}`),
      '',
    ].join('\n'),
  );
  try {
    const killAfter = 1 + Math.floor(rand() * (o.batches - 1));
    const child = push(config, dataDir);
    const exit = new Promise<number | null>((res) => child.on('exit', (code, signal) => res(signal ? -9 : code)));
    const watch = setInterval(() => {
      if (batchSaves(sim) >= killAfter) child.kill('SIGKILL');
    }, 1);
    const first = await exit;
    clearInterval(watch);
    assert.equal(first, -9, `${name}: the push finished before the kill (after ${batchSaves(sim)} batches)`);
    const before = batchSaves(sim);
    assert.ok(before < o.batches, `${name}: killed mid-push`);
    const again = push(config, dataDir);
    let err = '';
    again.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((res) => again.on('exit', (c) => res(c)));
    assert.equal(code, 0, `${name}: second push failed: ${err}`);
    const docs = sim.documents(APP, COLLECTION);
    assert.deepEqual(
      docs.map((d) => d.indicator).sort(),
      [...tpl.values].sort(),
      `${name}: every value exactly once in the collection`,
    );
    return { batches: batchSaves(sim) - o.batches, values: saved() - tpl.values.length };
  } finally {
    await sim.close();
  }
}

test(`P2: kill -9 during push (${TRIALS} trials): every value delivered, at most one batch repeated per crash`, {
  timeout: 600_000,
}, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'stixgate-crash-push-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const N = 2000;
  const BATCH = 100;
  const tpl = await template(root, N);
  const rand = prng(7);
  let repeated = 0;
  for (let i = 0; i < TRIALS; i++) {
    const r = await trial(
      root,
      `t${i}`,
      tpl,
      { batches: N / BATCH, sinkKeys: [`batch_size: ${BATCH}`, 'concurrency: 1'] },
      rand,
    );
    assert.ok(r.batches >= 0 && r.batches <= 1, `trial ${i}: ${r.batches} batches repeated after one crash`);
    assert.ok(r.values <= BATCH, `trial ${i}: ${r.values} values repeated after one crash`);
    repeated += r.batches;
  }
  t.diagnostic(`${TRIALS} crashes, ${repeated} batch(es) repeated in total`);
});

test(`P2 at the default settings (${Math.ceil(TRIALS / 2)} trials): a crash repeats at most ${DEFAULT_MAX_IN_FLIGHT_RECORDS} values`, {
  timeout: 600_000,
}, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'stixgate-crash-push-defaults-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  // the KV sink's defaults: 1,000 documents per batch_save, up to 4 requests at once
  const N = 12_000;
  const tpl = await template(root, N);
  const rand = prng(11);
  const repeats: number[] = [];
  for (let i = 0; i < Math.ceil(TRIALS / 2); i++) {
    const r = await trial(root, `d${i}`, tpl, { batches: N / 1000, sinkKeys: [] }, rand);
    assert.ok(
      r.values >= 0 && r.values <= 2000,
      `trial ${i}: ${r.values} values sent twice after one crash (at most 2,000)`,
    );
    repeats.push(r.values);
  }
  t.diagnostic(`values repeated per crash at the defaults: ${repeats.join(', ')}`);
});
