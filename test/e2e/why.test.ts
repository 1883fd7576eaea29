import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { detectObservable } from '../../src/core/observable.js';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { runCli, startDaemon } from '../helpers/daemon-proc.js';
import { must } from '../helpers/must.js';
import { splunkRig, writeRigConfig } from '../helpers/splunk-rig.js';

/**
 * `stixgate why` against a running daemon (GET /api/v1/deliveries through src/cli-remote.ts) and
 * directly from the store once it has stopped, across a restart: a value pushed to the Splunk KV
 * simulator is present, one the sink's label filter excludes is withheld, one the simulator refuses
 * (a 400 for every KV request) is rejected with the vendor's message; the answers are the same
 * from the daemon, from the store, and from the daemon started again.
 */
const KEY = 'k-why-7a6b5c4d3e2f1a0b9c8d';

const cli = runCli;

type Answer = {
  results: {
    value: string;
    deliveries: {
      sink: string;
      state: string;
      reason: string | null;
      since: string | null;
      seq: number;
      sources: { source: string; tlp: string }[];
      detail: string | null;
    }[];
  }[];
};

test('why: present, withheld and rejected values from the daemon, from the store, and after a restart', {
  timeout: 600_000,
}, async (t) => {
  const { splunk, base, dir } = await splunkRig(t, 'stixgate-why-');
  const data = join(dir, 'data');
  const store = await openEmbeddedStore({ dataDir: data });
  const put = async (value: string, labels: string[] = []) => {
    const r = detectObservable(value);
    assert.ok(r.ok);
    await store.upsert(
      [
        {
          object: {
            ...indicatorFromObservable(r.observable, { now: '2026-01-01T00:00:00.000Z' }),
            ...(labels.length ? { labels } : {}),
          },
          source: 'feed',
          confidence: 80,
          tlp: 'clear',
        },
      ],
      { now: Date.now() },
    );
  };
  await put('198.51.100.31');
  await put('198.51.100.32', ['scanner']);
  await store.close();
  const cfg = writeRigConfig(dir, base, {
    keys: { ops: { key: KEY, scopes: ['admin', 'lookup', 'ingest'], maxTlp: 'red' } },
    sink: ['batch_size: 1', 'filters: { exclude_labels: [scanner] }'],
  });
  const env = { STIXGATE_API_KEY: KEY };
  const why = async (values: string[]) => {
    const r = await cli(['why', '--json', '-c', cfg, ...values], env);
    assert.ok(r.status === 0 || r.status === 1, r.stderr);
    return { status: r.status, answer: JSON.parse(r.stdout) as Answer };
  };

  let daemon = startDaemon(['-c', cfg]);
  let running = true;
  t.after(async () => {
    if (running) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
  });
  await daemon.waitFor(/"msg":"push finished"/);
  const first = await why(['198.51.100.31', '198.51.100.32']);
  assert.equal(first.status, 1, 'one value is not present everywhere');
  const [present, withheld] = first.answer.results.map((r) => r.deliveries);
  assert.deepEqual(
    must(present, 'present').map((d) => [d.sink, d.state, d.reason]),
    [['kv', 'present', 'pushed']],
  );
  assert.deepEqual(must(must(present, 'present')[0], 'present[0]').sources, [{ source: 'feed', tlp: 'clear' }]);
  assert.deepEqual(
    must(withheld, 'withheld').map((d) => [d.sink, d.state, d.reason, d.detail]),
    [['kv', 'withheld', 'filter', 'filters.exclude_labels: scanner']],
  );
  assert.equal(splunk.documents('search', 'stixgate_indicators').length, 1);

  // the vendor refuses every KV write from now on: a new value goes in through the ingest API and is rejected
  splunk.inject({ target: 'kv', status: 400, times: 1_000_000 });
  writeFileSync(join(dir, 'new.txt'), '198.51.100.33\n');
  const ing = await cli(['ingest', join(dir, 'new.txt'), '--from', 'text_list', '-o', 'tlp=clear', '-c', cfg], env);
  assert.equal(ing.status, 0, ing.stderr);
  const push = await cli(['push', 'kv', '-c', cfg], env);
  assert.equal(push.status, 0, push.stderr + push.stdout);
  const rejected = must(
    (await why(['198.51.100.33'])).answer.results[0],
    "(await why(['198.51.100.33'])).answer.results[0]",
  ).deliveries;
  assert.deepEqual(
    rejected.map((d) => [d.sink, d.state, d.reason]),
    [['kv', 'rejected', 'vendor']],
  );
  assert.match(
    must(must(rejected[0], 'rejected[0]').detail, 'rejected[0].detail'),
    /^batch_save refused the document: /,
    "the vendor's message",
  );

  const all = ['198.51.100.31', '198.51.100.32', '198.51.100.33'];
  const fromDaemon = (await why(all)).answer;
  daemon.child.kill('SIGTERM');
  await daemon.exited;
  running = false;
  const fromStore = (await why(all)).answer;
  assert.deepEqual(fromStore, fromDaemon, 'the same answer read from the store');
  daemon = startDaemon(['-c', cfg]);
  running = true;
  await daemon.waitFor(/"msg":"ready"/);
  assert.deepEqual((await why(all)).answer, fromDaemon, 'the same answer after a restart');
});
