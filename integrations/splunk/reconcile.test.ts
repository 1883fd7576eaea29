import { type TestContext, test } from 'node:test';
import assert from 'node:assert/strict';
import { isStixgateError } from '../../src/core/errors.js';
import { sinkReconcileBench } from '../../test/helpers/reconcile-kit.js';
import { splunkEsSink, splunkHecSink, splunkKvSink } from './index.js';
import { commonConfig, HEC_TOKEN, ictx, indicator, JWT, kvConfig, NOW, runContext, startSim } from './sink-test-kit.js';
import type { SplunkEsConfig, SplunkHecConfig } from './schema.js';
import type { CommonSinkConfig, SinkDefinition } from '../../src/delivery/types.js';
import { must } from '../../test/helpers/must.js';

const ES = 'DA-ESS-ThreatIntelligence';

/** The reconcile bench of a Splunk sink on the simulator, with its type's default mapping table. */
const bench = <C>(t: TestContext, def: SinkDefinition<C>, config: C & CommonSinkConfig) =>
  sinkReconcileBench(t, { def, config, ctx: ictx, http: runContext(t).http, now: NOW });

/** A KV sink on the simulator at `base` writing `collection`, deleting at most `maxKeysPerDelete` keys a request. */
const searchKv = (base: string, collection: string, maxKeysPerDelete: number) =>
  kvConfig(base, { app: 'search', collection, max_keys_per_delete: maxKeysPerDelete });

test('splunk_kv: the plan lists exactly the drift injected in the collection, reconcile repairs it, foreign documents survive, a second plan is empty', async (t) => {
  const { sim, base } = await startSim(t);
  const b = await bench(t, splunkKvSink, searchKv(base, 'stixgate_iocs', 2));
  const values = ['198.51.100.1', '198.51.100.2', '198.51.100.3', 'evil.example', 'http://evil.example/x'];
  await b.put(values.map((v) => indicator(v)));
  await b.push();
  const first = await b.plan();
  assert.deepEqual(
    first.counts,
    { missing: 0, stale: 0, extra: 0, foreign: 0, in_sync: 5 },
    'right after a push nothing drifted',
  );

  const docs = must(sim.collection('search', 'stixgate_iocs'), "sim.collection('search', 'stixgate_iocs')").docs;
  const byValue = (v: string) =>
    must(
      [...docs.entries()].find(([, d]) => d.indicator === v),
      '[...docs.entries()].find(([, d]) => d.indicator === v)',
    );
  docs.delete(byValue('198.51.100.1')[0]); // deleted on the Splunk side
  const score = byValue('198.51.100.2')[1].score;
  byValue('198.51.100.2')[1].score = 3; // edited by hand
  const [, gd] = byValue('198.51.100.3'); // a value stixgate no longer holds, restored from a backup
  docs.set('f'.repeat(40), { ...gd, _key: 'f'.repeat(40), indicator: 'ghost.example' });
  docs.set('64b7f0e2a1c3d4e5f6a7b8c9', {
    _key: '64b7f0e2a1c3d4e5f6a7b8c9',
    indicator: '203.0.113.9',
    source: 'other_tool',
  }); // another tool's row

  const plan = await b.plan();
  assert.deepEqual(b.listed(plan), {
    missing: ['stixgate_iocs 198.51.100.1'],
    stale: ['stixgate_iocs 198.51.100.2'],
    extra: ['stixgate_iocs ghost.example'],
    foreign: ['stixgate_iocs 203.0.113.9'],
  });
  assert.deepEqual(plan.counts, { missing: 1, stale: 1, extra: 1, foreign: 1, in_sync: 3 });
  assert.equal(plan.read, 6);
  assert.equal(plan.expected, 5);
  assert.equal(await b.gauge('missing'), 1, 'a plan reports the drift it found');
  assert.equal(docs.size, 6, 'a plan changes nothing');

  const done = await b.reconcile();
  assert.deepEqual(done.repaired, { upserted: 2, removed: 1, rejected: 0, retried: 0, gone: 0 });
  assert.deepEqual(done.remaining, { missing: 0, stale: 0, extra: 0, foreign: 1 });
  assert.equal(byValue('198.51.100.2')[1].score, score);
  assert.ok(byValue('198.51.100.1'));
  assert.equal(docs.has('f'.repeat(40)), false);
  assert.ok(docs.has('64b7f0e2a1c3d4e5f6a7b8c9'), 'the foreign document survives');
  assert.equal(await b.gauge('missing'), 0);
  assert.equal(await b.gauge('foreign'), 1);
  assert.equal(
    must((await b.metrics.sinkLastReconcile.get()).values[0], '(await b.metrics.sinkLastReconcile.get()).values[0]')
      .value,
    NOW / 1000,
  );

  const again = await b.plan();
  assert.deepEqual(again.counts, { missing: 0, stale: 0, extra: 0, foreign: 1, in_sync: 5 });
});

test('splunk_kv: reads page by key (no skip), so a page costs the same however deep, through a server cap on rows per query; runs spill to disk beyond the chunk', async (t) => {
  const { sim, base } = await startSim(t, { maxRowsPerQuery: 10 });
  const b = await bench(t, splunkKvSink, searchKv(base, 'c', 50));
  const values = Array.from({ length: 25 }, (_, i) => `198.51.100.${i + 1}`);
  await b.put(values.map((v) => indicator(v)));
  const stats: unknown[] = [];
  const r = await b.reconcile({ chunk: 4, onSpill: (s) => stats.push(s) });
  assert.equal(r.counts.missing, 25);
  assert.equal(sim.documents('search', 'c').length, 25);
  const s = stats[0] as { desired: { maxBuffered: number; runs: number } };
  assert.ok(s.desired.maxBuffered <= 4, `at most a chunk in memory (${s.desired.maxBuffered})`);
  assert.equal(s.desired.runs, 7);
  const reads = sim.requests.filter((q) => q.method === 'GET' && q.path.endsWith('/storage/collections/data/c'));
  assert.ok(
    reads.every((q) => !q.query.includes('skip=')),
    'key-set paging',
  );
  const plan = await b.plan();
  const pages = sim.requests
    .filter((q) => q.method === 'GET' && q.path.endsWith('/storage/collections/data/c'))
    .slice(reads.length);
  assert.equal(pages.length, 4, '25 documents in pages of at most 10, then an empty page');
  assert.ok(pages.slice(1).every((q) => q.query.includes('%24gt')));
  assert.deepEqual(plan.counts, { missing: 0, stale: 0, extra: 0, foreign: 0, in_sync: 25 });
  assert.deepEqual((await b.plan()).counts, { missing: 0, stale: 0, extra: 0, foreign: 0, in_sync: 25 });
});

test("splunk_es: rows in the ES collections are compared without their push time; rows of ES's other intel sources are foreign and left alone", async (t) => {
  const { sim, base } = await startSim(t);
  const config = {
    ...commonConfig('splunk_es'),
    url: base,
    auth: { bearer_token: JWT },
    owner: 'nobody',
    app: ES,
    max_documents_per_batch_save: 1000,
    max_keys_per_delete: 50,
  } as SplunkEsConfig & ReturnType<typeof commonConfig>;
  const b = await bench(t, splunkEsSink, config);
  await b.put(['198.51.100.7', 'evil.example', 'http://evil.example/x', 'a'.repeat(64)].map((v) => indicator(v)));
  await b.push();
  for (const c of ['ip_intel', 'http_intel', 'file_intel'])
    for (const d of must(sim.collection(ES, c), 'sim.collection(ES, c)').docs.values()) d.time = 1; // an earlier push's time
  assert.deepEqual((await b.plan()).counts, { missing: 0, stale: 0, extra: 0, foreign: 0, in_sync: 4 });
  const ip = must(sim.collection(ES, 'ip_intel'), "sim.collection(ES, 'ip_intel')").docs;
  const http = must(sim.collection(ES, 'http_intel'), "sim.collection(ES, 'http_intel')").docs;
  http.clear(); // purged on the ES side
  const [k] = must(
    [...ip.entries()].find(([, d]) => d.domain === 'evil.example'),
    "[...ip.entries()].find(([, d]) => d.domain === 'evil.exam...",
  );
  const weight = must(ip.get(k), 'ip.get(k)').weight;
  must(ip.get(k), 'ip.get(k)').weight = 1;
  ip.set('5f0c1e2d3b4a59687a6b5c4d', {
    _key: '5f0c1e2d3b4a59687a6b5c4d',
    ip: '192.0.2.50',
    threat_key: 'iblocklist',
    time: 1,
  });
  const plan = await b.plan();
  assert.deepEqual(b.listed(plan), {
    missing: ['http_intel http://evil.example/x'],
    stale: ['ip_intel evil.example'],
    extra: [],
    foreign: ['ip_intel 192.0.2.50'],
  });
  await b.reconcile();
  assert.equal(http.size, 1);
  assert.equal(must(ip.get(k), 'ip.get(k)').weight, weight);
  assert.ok(ip.has('5f0c1e2d3b4a59687a6b5c4d'));
  assert.deepEqual((await b.plan()).counts, { missing: 0, stale: 0, extra: 0, foreign: 1, in_sync: 4 });
});

test('splunk_hec cannot be reconciled: HEC is write-only, and the error says so', async (t) => {
  const { base } = await startSim(t);
  const config = { ...commonConfig('splunk_hec'), url: base, token: HEC_TOKEN, index: 'threat_intel' };
  const b = await bench(t, splunkHecSink, config as SplunkHecConfig & ReturnType<typeof commonConfig>);
  await assert.rejects(
    b.plan(),
    (e) => isStixgateError(e) && e.code === 'STIXGATE_ERR_SINK_UNREADABLE' && /write-only/.test(e.message),
  );
});
