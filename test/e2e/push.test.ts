import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon } from '../../src/daemon.js';
import { registry } from '../../integrations/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { corpusPath } from '../helpers/corpus.js';
import { detectObservable } from '../../src/core/observable.js';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { until as pollUntil } from '../helpers/until.js';
import { must } from '../helpers/must.js';
import { fourSinksYaml, startFourSims } from '../helpers/four-sinks.js';

/**
 * The whole push path through the daemon: a corpus feed ingested and pushed to Splunk (KV and
 * ES), Cortex XSOAR and QRadar simulators; a second source raises scores; revocation and expiry
 * remove; one sink whose credentials are revoked pauses while the others keep delivering (S3,
 * S7); a removal queued while it is down arrives after the credential is rotated by a reload
 * (S9, S10); an idle daemon sends nothing.
 */
const et = corpusPath('ip-lists-et-tor/et-compromised-ips.txt');

const until = (what: string, fn: () => boolean | Promise<boolean>, ms = 30_000) => pollUntil(what, fn, ms);

const sorted = (xs: Iterable<string>) => [...xs].sort();

test('S3/S7/S9/S10/F16 push: corpus feed → Splunk KV/ES, XSOAR, QRadar; score change, revocation, expiry, paused sink, idle', {
  skip: et.skip,
  timeout: 180_000,
}, async (t) => {
  const values = [
    ...new Set(
      readFileSync(et.path, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => {
          const r = detectObservable(l);
          assert.ok(r.ok && r.observable.type === 'ipv4-addr', l);
          return r.observable.value;
        }),
    ),
  ];
  assert.ok(values.length > 100);
  const { splunk, xsoar, qradar, bases, dir } = await startFourSims(t, 'stixgate-push-', [
    { key: 'key-one', id: 1, type: 'standard' },
    { key: 'key-two', id: 2, type: 'standard' },
  ]);
  const extra = values.slice(0, 10);
  writeFileSync(join(dir, 'extra.txt'), extra.join('\n'));
  const bundleFile = join(dir, 'changes.json');
  writeFileSync(
    bundleFile,
    JSON.stringify({ type: 'bundle', id: 'bundle--1b7e2a58-7c1e-4c55-9b0f-1d6f1f6c2a01', objects: [] }),
  );
  const configFile = join(dir, 'stixgate.yaml');
  const writeConfig = (xsoarKey: string) =>
    writeFileSync(
      configFile,
      `data_dir: ${join(dir, 'data')}
expire_interval_secs: 1
correlation: { enabled: false }
server: { port: 0, metrics_public: true }
sources:
  et:
    type: text_list
    url: file://${et.path}
    interval_secs: 3600
    run_on_start: false
    confidence: 50
    tlp: clear
  extra:
    type: text_list
    url: file://${join(dir, 'extra.txt')}
    interval_secs: 3600
    run_on_start: false
    confidence: 90
    tlp: clear
  changes:
    type: stix_bundle
    url: file://${bundleFile}
    interval_secs: 3600
    run_on_start: false
    tlp: clear
${fourSinksYaml(bases, {
  intervalSecs: 1,
  xsoar: [`api_key: ${xsoarKey}`, 'retry: { max_attempts: 1, base_delay_secs: 0.1, max_delay_secs: 0.1 }'],
})}`,
    );
  writeConfig('key-one');
  const daemon = new Daemon({ configPath: configFile, registry, logger: silentLogger(), port: 0 });
  await daemon.start();
  t.after(() => daemon.stop());

  const held = {
    kv: () => new Map(splunk.documents('search', 'stixgate_indicators').map((d) => [String(d.indicator), d])),
    es: () => new Set(splunk.documents('DA-ESS-ThreatIntelligence', 'ip_intel').map((d) => String(d.ip))),
    xsoar: () => new Map(xsoar.indicators().map((i) => [i.value, i])),
    qradar: () => new Set(qradar.values('stixgate - IPv4')),
  };
  const allHold = (expected: string[]) => () =>
    [sorted(held.kv().keys()), sorted(held.es()), sorted(held.xsoar().keys()), sorted(held.qradar())].every(
      (got) => JSON.stringify(got) === JSON.stringify(sorted(expected)),
    );

  // 1. ingest the corpus feed: every sink holds exactly its values, with the mapped fields
  await daemon.runNow('et');
  await until('all sinks hold the feed', allHold(values));
  const kv0 = must(held.kv().get(must(values[0], 'values[0]')), 'held.kv().get(values[0])');
  assert.equal(kv0.indicator_type, 'ipv4-addr');
  assert.equal(kv0.sources, 'et');
  assert.equal(kv0.tlp, 'clear');
  const score0 = Number(kv0.score);
  assert.ok(score0 > 0 && score0 <= 100);
  const x0 = must(held.xsoar().get(must(values[0], 'values[0]')), 'held.xsoar().get(values[0])');
  assert.equal(x0.indicator_type, 'IP');
  assert.equal(x0.score, score0 >= 75 ? 3 : score0 >= 40 ? 2 : 0, 'verdict from the score');
  assert.equal(x0.CustomFields.trafficlightprotocol, 'CLEAR');

  // 2. a second source raises the score of ten values: every sink that carries a score updates
  await daemon.runNow('extra');
  await until('KV scores rise', () => extra.every((v) => Number(held.kv().get(v)?.score) > score0));
  const raised = Number(must(held.kv().get(must(extra[0], 'extra[0]')), 'held.kv().get(extra[0])').score);
  await until('XSOAR verdicts follow', () =>
    extra.every((v) => held.xsoar().get(v)?.score === (raised >= 75 ? 3 : raised >= 40 ? 2 : 0)),
  );
  assert.equal(must(held.kv().get(must(extra[0], 'extra[0]')), 'held.kv().get(extra[0])').sources, 'et,extra');
  assert.equal(
    Number(must(held.kv().get(must(values[50], 'values[50]')), 'held.kv().get(values[50])').score),
    score0,
    'untouched values keep their score',
  );

  // 3. revocation and expiry remove; a short-lived new indicator is pushed, then expires
  const now = Date.now();
  const indicatorOf = (v: string) => {
    const r = detectObservable(v);
    if (!r.ok) throw new Error(v);
    return indicatorFromObservable(r.observable, { now: new Date(now - 60_000).toISOString() });
  };
  const revoked = values.slice(20, 23);
  const shortLived = ['192.0.2.201', '192.0.2.202'].map((v) => ({
    ...indicatorOf(v),
    valid_until: new Date(now + 4000).toISOString(),
  }));
  writeFileSync(
    bundleFile,
    JSON.stringify({
      type: 'bundle',
      id: 'bundle--1b7e2a58-7c1e-4c55-9b0f-1d6f1f6c2a02',
      objects: [
        ...revoked.map((v) => ({ ...indicatorOf(v), modified: new Date(now).toISOString(), revoked: true })),
        ...shortLived,
      ],
    }),
  );
  await daemon.runNow('changes');
  const afterRevoke = values.filter((v) => !revoked.includes(v));
  await until(
    'short-lived values pushed, revoked ones removed',
    allHold([...afterRevoke, '192.0.2.201', '192.0.2.202']),
  );
  await until('short-lived values expire everywhere', allHold(afterRevoke));

  // 4. XSOAR's key is revoked: that sink pauses, the others keep removing promptly (S3, S7)
  xsoar.revoke('key-one');
  const revokedWhileDown = values.slice(30, 32);
  writeFileSync(
    bundleFile,
    JSON.stringify({
      type: 'bundle',
      id: 'bundle--1b7e2a58-7c1e-4c55-9b0f-1d6f1f6c2a03',
      objects: revokedWhileDown.map((v) => ({
        ...indicatorOf(v),
        modified: new Date(now + 1).toISOString(),
        revoked: true,
      })),
    }),
  );
  await daemon.runNow('changes');
  const down = afterRevoke.filter((v) => !revokedWhileDown.includes(v));
  await until('the healthy sinks removed the values', () =>
    [sorted(held.kv().keys()), sorted(held.es()), sorted(held.qradar())].every(
      (got) => JSON.stringify(got) === JSON.stringify(sorted(down)),
    ),
  );
  // promptly: the healthy sinks delivered while XSOAR still refused the key, not after it came back
  assert.ok(
    revokedWhileDown.every((v) => held.xsoar().has(v)),
    'the paused sink has not delivered the removal',
  );
  const metrics = await daemon.metrics.registry.metrics();
  assert.match(metrics, /stixgate_sink_paused\{sink="xsoar"\} 1/);
  assert.match(metrics, /stixgate_sink_paused\{sink="kv"\} 0/);
  // the paused sink's lag counts the two removals it has not delivered; the healthy sinks' is 0 (#13)
  const scraped = await (await fetch(`${daemon.address}/metrics`)).text();
  assert.match(scraped, /^stixgate_sink_lag_changes\{sink="xsoar"\} 2$/m);
  assert.match(scraped, /^stixgate_sink_lag_changes\{sink="kv"\} 0$/m);

  // 5. the credential is rotated through a reload: the queued removals arrive once (S9, S10)
  writeConfig('key-two');
  assert.equal(await daemon.reload(), true);
  await until('XSOAR catches up after the rotation', allHold(down));
  assert.equal(xsoar.exclusions().length, 0, 'removal never adds to the exclusion list');
  assert.doesNotMatch(await daemon.metrics.registry.metrics(), /key-one|key-two/);

  // 6. nothing changes: nothing is sent, counted over two complete runs of every sink (after one
  // more run each, so that no run that started before the catch-up is still sending)
  const count = () => splunk.requests.length + xsoar.requests.length + qradar.requests.length;
  const sinkJobs = ['sink:kv', 'sink:es', 'sink:xsoar', 'sink:qradar'];
  const runsOf = async () => {
    const done = new Map<string, number>();
    for (const v of (await daemon.metrics.runs.get()).values) {
      const job = String(v.labels.job_name);
      if (sinkJobs.includes(job)) done.set(job, (done.get(job) ?? 0) + v.value);
    }
    return done;
  };
  const moreRuns = async (n: number) => {
    const from = await runsOf();
    await until(`${n} more runs of every sink`, async () => {
      const now = await runsOf();
      return sinkJobs.every((j) => (now.get(j) ?? 0) >= (from.get(j) ?? 0) + n);
    });
  };
  await moreRuns(1);
  const before = count();
  await moreRuns(2);
  assert.equal(count(), before, 'idle sinks send no requests');
});
