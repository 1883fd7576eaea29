import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import type { Store } from '../../src/store/contract.js';
import { detectObservable } from '../../src/core/observable.js';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { recordKey } from '../../src/delivery/records.js';
import { sinkCursorName } from '../../src/delivery/runner.js';
import type { Observable } from '../../src/core/stix.js';
import { SplunkSimulator } from '../../integrations/splunk/simulator.js';
import { prng } from '../store/fixtures.js';

/**
 * The delivery ledger across a crash during a push, for any store that keeps one
 * (test/e2e/crash-ledger.test.ts: embedded; test/integration/opensearch-crash-ledger.itest.ts):
 * `stixgate push` to the Splunk KV simulator is killed with SIGKILL after a random number of
 * acknowledged batches. After the kill exactly the values at or below the committed cursor are
 * recorded present and none beyond it; after the push is run again every value is.
 */
export const N = 600;
const BATCH = 50;
export const TRIALS = Number(process.env.STIXGATE_CRASH_TRIALS ?? 3);
const CLI = join(PROJECT_ROOT, 'src', 'cli.ts');

/** One trial's store: the config lines that select it, and how to open it from this process. */
export interface CrashStore {
  /** `data_dir:` and, for a non-default store, the `store:` section. */
  config: string[];
  dataDir: string;
  open(): Promise<Store>;
  /**
   * Waits out the store's documented visibility lag for writes of another process before the
   * ledger is read (OpenSearch: searches see another instance's writes after a refresh,
   * docs/deliveries.md); the embedded store has none.
   */
  settle?(): Promise<void>;
}

/** The values every trial pushes. */
export function crashValues(): Observable[] {
  const values: Observable[] = [];
  for (let i = 0; i < N; i++) {
    const r = detectObservable(`10.8.${(i >> 8) & 255}.${i & 255}`);
    if (!r.ok) throw new Error(r.message);
    values.push(r.observable);
  }
  return values;
}

/** Stores the values as indicators of one source (each its own change-log sequence). */
export async function storeValues(store: Store, values: Observable[]): Promise<void> {
  await store.upsert(
    values.map((o) => ({
      object: indicatorFromObservable(o, { now: '2026-01-01T00:00:00.000Z' }),
      source: 'feed',
      confidence: 80,
    })),
    { now: Date.parse('2026-01-01T00:00:00Z') },
  );
}

function push(config: string, dataDir: string) {
  return spawn(process.execPath, ['--import', 'tsx', CLI, 'push', 'kv', '--config', config, '--data-dir', dataDir], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Per value: its change-log sequence, whether the ledger holds a present row for it, and the cursor. */
async function ledgerState(
  open: () => Promise<Store>,
  values: Observable[],
): Promise<{ cursor: number; present: boolean[]; seqs: number[] }> {
  const store = await open();
  try {
    if (!store.deliveries) throw new Error(`the ${store.kind} store keeps no delivery ledger`);
    const cursor = Number((await store.getCursor(sinkCursorName('kv'))) ?? 0);
    const present: boolean[] = [];
    const seqs: number[] = [];
    for (const o of values) {
      const r = await store.deliveries([recordKey(o)], o.value);
      const row = r.rows[0];
      present.push(r.rows.length === 1 && row?.state === 'present' && row.sink === 'kv');
      seqs.push(r.valueSeq);
    }
    return { cursor, present, seqs };
  } finally {
    await store.close();
  }
}

/** Runs the trials; `prepare(trial, root)` gives each a store already holding `crashValues()`. */
export async function crashLedgerTrials(prepare: (trial: number, root: string) => Promise<CrashStore>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'stixgate-crash-ledger-'));
  try {
    const values = crashValues();
    const rand = prng(11);
    for (let trial = 0; trial < TRIALS; trial++) await oneTrial(trial, root, values, rand, await prepare(trial, root));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function oneTrial(trial: number, root: string, values: Observable[], rand: () => number, st: CrashStore) {
  const sim = new SplunkSimulator();
  const { base } = await sim.start();
  sim.inject({ target: 'kv', delayMs: 15, times: 1_000_000 });
  const dataDir = st.dataDir;
  const config = join(root, `t${trial}.yaml`);
  writeFileSync(
    config,
    [
      ...st.config,
      'sinks:',
      '  kv:',
      '    type: splunk_kv',
      `    url: ${base}`,
      '    auth: { username: admin, password: changeme }',
      '    allow_private: true',
      '    allow_insecure: true',
      '    max_tlp: amber',
      `    batch_size: ${BATCH}`,
      '    concurrency: 1',
      '',
    ].join('\n'),
  );
  try {
    const saves = () => sim.requests.filter((r) => r.path.endsWith('/batch_save') && r.status === 200).length;
    const killAfter = 1 + Math.floor(rand() * (N / BATCH - 2));
    const child = push(config, dataDir);
    const exit = new Promise<number | null>((res) => child.on('exit', (code, signal) => res(signal ? -9 : code)));
    const watch = setInterval(() => {
      if (saves() >= killAfter) child.kill('SIGKILL');
    }, 1);
    const first = await exit;
    clearInterval(watch);
    assert.equal(first, -9, `trial ${trial}: the push finished before the kill`);

    await st.settle?.();
    const after = await ledgerState(st.open, values);
    // positions need not be dense (ADR 0023): mid-push is strictly between 0 and the last value's position
    const lastSeq = Math.max(...after.seqs);
    assert.ok(
      after.cursor > 0 && after.cursor < lastSeq,
      `trial ${trial}: killed mid-push (cursor ${after.cursor} of ${lastSeq})`,
    );
    const expected = after.seqs.map((s) => s <= after.cursor);
    assert.ok(
      after.seqs.every((s) => s > 0),
      `trial ${trial}: every value found in the store after the kill`,
    );
    assert.deepEqual(
      after.present,
      expected,
      `trial ${trial}: present rows are exactly the values at or below cursor ${after.cursor}`,
    );

    const again = push(config, dataDir);
    let err = '';
    again.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((res) => again.on('exit', (c) => res(c)));
    assert.equal(code, 0, `trial ${trial}: second push failed: ${err}`);
    await st.settle?.();
    const done = await ledgerState(st.open, values);
    assert.equal(done.cursor, Math.max(...done.seqs), `trial ${trial}: the second push reached the last position`);
    assert.equal(done.present.filter(Boolean).length, N, `trial ${trial}: every value present after the second push`);
  } finally {
    await sim.close();
  }
}
