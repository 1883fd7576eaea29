import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon } from '../../src/daemon.js';
import { registry } from '../../integrations/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { until } from '../helpers/until.js';
import { splunkRig, writeRigConfig } from '../helpers/splunk-rig.js';

/**
 * The admin API against a real daemon (embedded store, a text_list source, a Splunk KV sink on
 * the simulator): states and their transitions, run now, pause and resume (kept across a reload
 * and a restart, and equal to /metrics), push, push --full, a dry run that changes nothing, reload,
 * statistics, the ingest endpoint, and who may call them.
 */
const KEYS = {
  ops: 'k-ops-5c1f0e9d8b7a6f5e4d3c2b1a',
  opsClear: 'k-opsclear-0a1b2c3d4e5f6a7b8c9d',
  reader: 'k-reader-9f8e7d6c5b4a39281706',
};
const VALUES = ['198.51.100.1', '198.51.100.2', '198.51.100.3'];

test('admin API: sources, sinks, push, --full, dry run, pause across reload and restart, reload, stats, ingest', {
  timeout: 180_000,
}, async (t) => {
  const { splunk, base, dir } = await splunkRig(t, 'stixgate-admin-');
  writeFileSync(join(dir, 'list.txt'), `${VALUES.join('\n')}\n`);
  // a feed whose answer waits until the test releases it: a run held in progress
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const feedServer = createServer((_req, res) => void released.then(() => res.end('203.0.113.50\n')));
  await new Promise<void>((r) => feedServer.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => feedServer.close(() => r())));
  const heldUrl = `http://127.0.0.1:${(feedServer.address() as { port: number }).port}/list.txt`;
  const configFile = writeRigConfig(dir, base, {
    server: ['metrics_public: true', 'ingest_body_limit_bytes: 4096'],
    keys: {
      ops: { key: KEYS.ops, scopes: ['admin', 'lookup', 'ingest'], maxTlp: 'red' },
      ops_clear: { key: KEYS.opsClear, scopes: ['admin'], maxTlp: 'clear' },
      reader: { key: KEYS.reader, scopes: ['lookup'], maxTlp: 'red' },
    },
    sections: `sources:
  feed:
    type: text_list
    url: file://${join(dir, 'list.txt')}
    interval_secs: 3600
    run_on_start: false
    tlp: amber
  held:
    type: text_list
    url: ${heldUrl}
    allow_private: true
    allow_insecure: true
    interval_secs: 3600
    run_on_start: false`.split('\n'),
    sink: ['max_tlp: amber'],
  });
  let daemon = new Daemon({ configPath: configFile, registry, logger: silentLogger(), port: 0 });
  await daemon.start();
  t.after(() => daemon.stop());
  const call = async (method: string, path: string, key: string | undefined = KEYS.ops, body?: string | Buffer) => {
    const res = await fetch(`${daemon.address}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'text/plain' } : {}),
      },
      body,
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text && res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : undefined,
      text,
    };
  };
  const metric = async (line: RegExp) => Number(line.exec((await call('GET', '/metrics')).text)?.[1]);
  const batchSaves = () => splunk.requests.filter((r) => r.path.endsWith('/batch_save')).length;
  const kvDocs = () => splunk.documents('search', 'stixgate_indicators').length;

  // who may call: no key 401, a key without `admin` 403
  assert.equal((await call('GET', '/api/v1/admin/sources', '')).status, 401);
  const forbidden = await call('GET', '/api/v1/admin/sources', KEYS.reader);
  assert.deepEqual(
    [forbidden.status, forbidden.body],
    [403, { error: { code: 'STIXGATE_ERR_API_FORBIDDEN', message: 'this API key lacks the "admin" scope' } }],
  );
  assert.equal((await call('GET', '/api/v1/admin/sources/nope')).status, 404);
  assert.equal((await call('POST', '/api/v1/admin/sinks/nope/push')).status, 404);

  // sources: idle, never run, a next run scheduled
  const s0 = (await call('GET', '/api/v1/admin/sources')).body.sources;
  assert.deepEqual(
    s0.map((s: { id: string; state: string; paused: boolean; last_run?: unknown }) => [
      s.id,
      s.state,
      s.paused,
      s.last_run,
    ]),
    [
      ['feed', 'idle', false, undefined],
      ['held', 'idle', false, undefined],
    ],
  );
  assert.ok(Date.parse(s0[0].next_run) > Date.now(), 'next run in the future');

  // the sink's start-up run has ended before its state is read
  await until(
    'the sink start-up run',
    async () => (await call('GET', '/api/v1/admin/sinks/kv')).body.last_run?.outcome === 'success',
  );

  // run now: the run happens, its summary and last run are reported, the cursor committed
  const ran = await call('POST', '/api/v1/admin/sources/feed/run');
  assert.equal(ran.status, 200, ran.text);
  assert.equal(ran.body.ran, true);
  assert.equal(ran.body.summary.created, VALUES.length);
  const feed = (await call('GET', '/api/v1/admin/sources/feed')).body;
  assert.equal(feed.last_run.outcome, 'success');
  assert.equal(feed.last_summary.created, VALUES.length);
  assert.ok(feed.cursor, 'cursor committed');

  // a run while one is in progress is a 409: the held source's feed has not answered yet
  const started = await call('POST', '/api/v1/admin/sources/held/run?wait=false');
  assert.deepEqual([started.status, started.body], [202, { id: 'held', ran: true, started: true }]);
  const heldState = await call('GET', '/api/v1/admin/sources/held');
  assert.equal(heldState.body.state, 'running', heldState.text);
  const conflict = await call('POST', '/api/v1/admin/sources/held/run');
  assert.equal(conflict.status, 409, conflict.text);
  assert.equal(conflict.body.error.code, 'STIXGATE_ERR_API_CONFLICT');
  release();
  await until(
    'the held run ends',
    async () => (await call('GET', '/api/v1/admin/sources/held')).body.last_run?.outcome === 'success',
  );

  // sinks: lag is head - cursor, the same number /metrics serves
  const k0 = (await call('GET', '/api/v1/admin/sinks/kv')).body;
  assert.equal(k0.lag, k0.head - k0.cursor);
  assert.ok(k0.lag > 0);
  assert.equal(await metric(/^stixgate_sink_lag_changes\{sink="kv"\} (\d+)$/m), k0.lag);

  // a dry run plans and changes nothing: no request to Splunk, the cursor where it was
  const before = batchSaves();
  const plan = await call('POST', '/api/v1/admin/sinks/kv/push?dry_run=true');
  assert.equal(plan.status, 200, plan.text);
  assert.equal(plan.body.summary.planned.upsert_batches, 1);
  assert.deepEqual(plan.body.samples.map((s: { value: string }) => s.value).sort(), [...VALUES, '203.0.113.50'].sort());
  assert.equal(batchSaves(), before);
  assert.equal((await call('GET', '/api/v1/admin/sinks/kv')).body.cursor, k0.cursor);
  // a caller with a TLP:CLEAR ceiling gets the counts, never a sample above its ceiling
  const planClear = await call('POST', '/api/v1/admin/sinks/kv/push?dry_run=true', KEYS.opsClear);
  assert.equal(planClear.body.summary.planned.upsert_batches, 1);
  assert.deepEqual(planClear.body.samples, []);
  for (const v of VALUES) assert.equal(planClear.text.includes(v), false);

  // push now: delivered, lag 0; an idle push sends nothing; --full re-sends every value
  const pushed = await call('POST', '/api/v1/admin/sinks/kv/push');
  assert.equal(pushed.status, 200, pushed.text);
  assert.equal(pushed.body.summary.upserted, VALUES.length + 1);
  assert.equal(kvDocs(), VALUES.length + 1);
  assert.equal((await call('GET', '/api/v1/admin/sinks/kv')).body.lag, 0);
  const saves = batchSaves();
  assert.equal((await call('POST', '/api/v1/admin/sinks/kv/push')).body.summary.upserted, 0);
  assert.equal(batchSaves(), saves, 'nothing to send: no request');
  const full = await call('POST', '/api/v1/admin/sinks/kv/push?full=true');
  assert.equal(full.body.summary.upserted, VALUES.length + 1, 're-sent');
  assert.ok(batchSaves() > saves);
  assert.equal(kvDocs(), VALUES.length + 1, 'idempotent');

  // pause: the state, the gauge, and the scheduler agree; a reload keeps it
  const paused = await call('POST', '/api/v1/admin/sources/feed/pause');
  assert.deepEqual([paused.body.state, paused.body.paused], ['paused', true]);
  assert.equal(await metric(/^stixgate_job_paused\{job_name="feed"\} (\d+)$/m), 1);
  assert.equal((await call('POST', '/api/v1/admin/sinks/kv/pause')).body.state, 'paused');
  assert.equal(await metric(/^stixgate_job_paused\{job_name="sink:kv"\} (\d+)$/m), 1);
  const reload = await call('POST', '/api/v1/admin/reload');
  assert.deepEqual(reload.body, { ok: true, message: 'configuration reloaded (2 source(s), 1 sink(s))' });
  assert.equal((await call('GET', '/api/v1/admin/sources/feed')).body.state, 'paused');
  assert.equal(await metric(/^stixgate_job_paused\{job_name="feed"\} (\d+)$/m), 1);
  // a paused source still runs when asked to
  assert.equal((await call('POST', '/api/v1/admin/sources/feed/run')).body.ran, true);
  const resumed = await call('POST', '/api/v1/admin/sources/feed/resume');
  assert.deepEqual([resumed.body.state, resumed.body.paused], ['idle', false]);
  assert.equal(await metric(/^stixgate_job_paused\{job_name="feed"\} (\d+)$/m), 0);

  // statistics: counts only, the same for every ceiling (docs/admin-api.md)
  const stats = await call('GET', '/api/v1/admin/stats');
  assert.equal(stats.body.byType.indicator, VALUES.length + 1);
  assert.equal(stats.body.changeLogHead, k0.head);
  assert.deepEqual((await call('GET', '/api/v1/admin/stats', KEYS.opsClear)).body, stats.body);

  // ingest: per-object status, the value gate's reasons, the lookup sees the new value
  const ing = await call(
    'POST',
    '/api/v1/ingest?type=text_list&source_id=upload&option=tlp=clear&option=max_bad_ratio=0.5',
    KEYS.ops,
    '192.0.2.77\n999.1.1.1\n',
  );
  assert.equal(ing.status, 200, ing.text);
  assert.equal(ing.body.summary.created, 1);
  assert.deepEqual(
    ing.body.objects.map((o: { status: string; reason?: string }) => `${o.status} ${o.reason ?? ''}`).sort(),
    ['accepted ', 'rejected invalid_ipv4'],
  );
  assert.deepEqual(ing.body.objects.find((o: { status: string }) => o.status === 'rejected').location, {
    source: 'upload',
    line: 2,
  });
  await until(
    'the lookup index follows',
    async () => (await call('GET', '/api/v1/lookup?value=192.0.2.77')).body.matched === true,
  );
  assert.deepEqual((await call('GET', '/api/v1/lookup?value=192.0.2.77')).body.indicators[0].sources, ['upload']);
  const indicators = (await call('GET', '/api/v1/admin/stats')).body.byType.indicator;
  // a document over max_bad_ratio: a 400 naming the reason and the line, nothing stored
  const tooBad = await call(
    'POST',
    '/api/v1/ingest?type=text_list&source_id=upload&option=bad_ratio_min_records=1',
    KEYS.ops,
    '192.0.2.78\n999.1.1.1\n',
  );
  assert.equal(tooBad.status, 400);
  assert.match(tooBad.body.error.message, /max_bad_ratio.*line 2: invalid IPv4 address/);
  assert.equal((await call('GET', '/api/v1/admin/stats')).body.byType.indicator, indicators, 'nothing stored');
  assert.equal((await call('POST', '/api/v1/ingest?type=text_list', KEYS.opsClear, 'x')).status, 403);
  const badType = await call('POST', '/api/v1/ingest?type=taxii21', KEYS.ops, 'x');
  assert.equal(badType.status, 400);
  assert.match(badType.body.error.message, /cannot be ingested as a document; one of: .*text_list/);
  assert.equal(
    (await call('POST', '/api/v1/ingest?type=text_list&source_id=feed', KEYS.ops, '192.0.2.1\n')).status,
    400,
  );
  assert.equal((await call('POST', '/api/v1/ingest?type=text_list', KEYS.ops, '192.0.2.1\n'.repeat(500))).status, 413);
  assert.equal((await call('POST', '/api/v1/ingest?type=text_list', KEYS.ops, '')).status, 400);

  // a restart keeps the sink's pause (kept in the store)
  await daemon.stop();
  daemon = new Daemon({ configPath: configFile, registry, logger: silentLogger(), port: 0 });
  await daemon.start();
  const sinks = (await call('GET', '/api/v1/admin/sinks')).body.sinks;
  assert.deepEqual(
    sinks.map((s: { id: string; state: string }) => [s.id, s.state]),
    [['kv', 'paused']],
  );
  assert.equal((await call('GET', '/api/v1/admin/sources/feed')).body.paused, false);
});
