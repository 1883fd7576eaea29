import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startDaemon } from '../helpers/daemon-proc.js';
import { must } from '../helpers/must.js';
import { splunkRig, writeRigConfig } from '../helpers/splunk-rig.js';

/**
 * `stixgate plan` and `stixgate reconcile` against a Splunk simulator: through a running daemon
 * (admin API, drift gauges on /metrics), then directly on the store once it has stopped, with the
 * same output.
 */
const KEY = 'k-cli-reconcile-3f2e1d0c9b8a7f6e5d4c';
const FOREIGN = '64b7f0e2a1c3d4e5f6a7b8c9';

const cli = runCli;

test('plan and reconcile through a running daemon, then directly on the store, with the same output', {
  timeout: 600_000,
}, async (t) => {
  const { splunk, base, dir } = await splunkRig(t, 'stixgate-cli-reconcile-');
  const data = join(dir, 'data');
  const cfg = writeRigConfig(dir, base, {
    keys: { ops: { key: KEY, scopes: ['admin', 'ingest', 'metrics'], maxTlp: 'red' } },
    sink: ['reconcile: { interval_secs: 86400 }'],
  });
  writeFileSync(join(dir, 'a.txt'), '198.51.100.11\n198.51.100.12\n198.51.100.13\n');
  const env = { STIXGATE_API_KEY: KEY };
  const c0 = ['-c', cfg];

  const daemon = startDaemon(c0);
  let stopped = false;
  t.after(async () => {
    if (!stopped) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
  });
  await daemon.waitFor(/"msg":"ready"/);
  const url = (JSON.parse(readFileSync(join(data, 'daemon.json'), 'utf8')) as { url: string }).url;
  assert.equal(
    (await cli(['ingest', join(dir, 'a.txt'), '--from', 'text_list', '-o', 'tlp=clear', ...c0], env)).status,
    0,
  );
  assert.equal((await cli(['push', 'kv', ...c0], env)).status, 0);
  const docs = must(
    splunk.collection('search', 'stixgate_indicators'),
    "splunk.collection('search', 'stixgate_indicators')",
  ).docs;
  assert.equal(docs.size, 3);

  const drift = () => {
    const [key] = must(
      [...docs.entries()].find(([, d]) => d.indicator === '198.51.100.12'),
      "[...docs.entries()].find(([, d]) => d.indicator === '198....",
    );
    docs.delete(key);
    docs.set(FOREIGN, { _key: FOREIGN, indicator: '203.0.113.9' });
  };
  drift();
  const plan = await cli(['plan', 'kv', ...c0], env);
  assert.equal(plan.status, 1, `a plan that finds drift exits 1: ${plan.stderr}`);
  assert.equal(
    plan.stdout,
    [
      'plan kv (splunk_kv): KV collection search/stixgate_indicators',
      'read 3 entries, 3 expected, 2 in sync',
      'to add (missing): 1',
      '  + stixgate_indicators 198.51.100.12',
      'to update (stale): 0',
      'to remove (extra): 0',
      'foreign, left alone: 1',
      '  = stixgate_indicators 203.0.113.9',
      '',
    ].join('\n'),
  );
  assert.equal(docs.size, 3, 'a plan changes nothing');
  const metrics = async () =>
    await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })).text();
  assert.match(await metrics(), /stixgate_sink_drift_items\{sink="kv",kind="missing"\} 1/);
  const planJson = await cli(['plan', 'kv', '--json', ...c0], env);
  assert.equal(planJson.status, 1, 'the same exit code with --json');
  const fixed = await cli(['reconcile', 'kv', '--json', ...c0], env);
  assert.equal(fixed.status, 0, fixed.stderr);
  assert.deepEqual(JSON.parse(fixed.stdout).repaired, { upserted: 1, removed: 0, rejected: 0, retried: 0, gone: 0 });
  assert.equal(docs.size, 4);
  const m = await metrics();
  assert.match(m, /stixgate_sink_drift_items\{sink="kv",kind="missing"\} 0/);
  assert.match(m, /stixgate_sink_drift_items\{sink="kv",kind="foreign"\} 1/);
  assert.match(m, /stixgate_sink_last_reconcile_timestamp_seconds\{sink="kv"\} [1-9]/);
  assert.match(
    m,
    /stixgate_job_last_success_timestamp_seconds\{job_name="reconcile:kv"\} 0/,
    'the scheduled reconcile is a job of its own',
  );

  daemon.child.kill('SIGTERM');
  assert.equal((await daemon.exited).code, 0, daemon.output());
  stopped = true;
  docs.delete(FOREIGN);
  drift();
  const local = await cli(['plan', 'kv', ...c0]);
  assert.equal(local.status, 1, `drift exits 1 from the store too: ${local.stderr}`);
  assert.equal(local.stdout, plan.stdout, 'the same plan from the store');
  const localFix = await cli(['reconcile', 'kv', '--json', ...c0]);
  assert.equal(localFix.status, 0, localFix.stderr);
  assert.equal(JSON.parse(localFix.stdout).repaired.upserted, 1);
  const clean = await cli(['plan', 'kv', '--json', ...c0]);
  assert.deepEqual(JSON.parse(clean.stdout).counts, { missing: 0, stale: 0, extra: 0, foreign: 1, in_sync: 3 });
  assert.equal(clean.status, 0, 'no drift (a foreign entry is not drift): exit 0');
  const stale = must(
    [...docs.values()].find((d) => d.indicator === '198.51.100.13'),
    "[...docs.values()].find((d) => d.indicator === '198.51.10...",
  );
  stale.description = 'edited by hand';
  const edited = await cli(['plan', 'kv', ...c0]);
  assert.equal(edited.status, 1, 'a stale entry is drift');
  assert.match(edited.stdout, /to update \(stale\): 1/);
  const unknown = await cli(['plan', 'nope', ...c0]);
  assert.equal(unknown.status, 2, 'an unknown sink is a configuration error, not drift');
  assert.match(unknown.stderr, /no sink "nope"/);
});
