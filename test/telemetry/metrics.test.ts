import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metrics } from '../../src/telemetry/metrics.js';
import { describeMetricsReference, metricCatalogue } from '../../src/telemetry/reference.js';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { must } from '../helpers/must.js';

test('docs/metrics.md is the reference generated from the catalogue (regenerate: npx stixgate metrics-reference > docs/metrics.md)', () => {
  assert.equal(readFileSync(join(PROJECT_ROOT, 'docs', 'metrics.md'), 'utf8'), describeMetricsReference());
});

test('metric names follow the Prometheus naming guide', () => {
  const all = metricCatalogue();
  const own = all.filter((m) => m.name.startsWith('stixgate_'));
  const defaults = all.filter((m) => !m.name.startsWith('stixgate_'));
  // the process and Node.js defaults keep their standard names
  for (const m of defaults) assert.match(m.name, /^(process|nodejs)_[a-z0-9_]+$/, m.name);
  for (const name of [
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
    'process_start_time_seconds',
    'nodejs_eventloop_lag_seconds',
    'nodejs_heap_size_used_bytes',
  ]) {
    assert.ok(
      defaults.some((m) => m.name === name),
      `${name} is served`,
    );
  }
  assert.ok(!all.some((m) => /^stixgate_(process|nodejs)_/.test(m.name)));
  for (const m of own) {
    assert.match(m.name, /^stixgate_[a-z]+(_[a-z0-9]+)+$/, m.name);
    // _total on counters and only on counters
    assert.equal(m.name.endsWith('_total'), m.type === 'counter', `${m.name} (${m.type})`);
    if (m.type === 'histogram') assert.match(m.name, /_(seconds|bytes)$/, `${m.name}: a histogram has a base unit`);
    if (/timestamp/.test(m.name)) assert.match(m.name, /_timestamp_seconds$/, m.name);
    assert.doesNotMatch(m.name, /_(ms|milliseconds|secs|kb|mb)(_|$)/, `${m.name}: base units only`);
    assert.ok(m.help.length > 10, `${m.name} has a description`);
    // labels are bounded: never a value, an URL, a key or a request
    // `job` and `instance` are Prometheus's target labels: a metric label with either name is renamed at scrape
    for (const l of m.labels)
      assert.ok(!['job', 'instance'].includes(l), `${m.name}{${l}} clashes with a target label`);
    for (const l of m.labels)
      assert.ok(
        ![
          'value',
          'values',
          'url',
          'key',
          'api_key',
          'ip',
          'domain',
          'indicator',
          'id',
          'path',
          'error',
          'message',
        ].includes(l),
        `${m.name}{${l}}`,
      );
  }
  assert.equal(new Set(all.map((m) => m.name)).size, all.length, 'no name declared twice');
});

const seriesOf = async (m: Metrics) => (await m.registry.metrics()).split('\n').filter((l) => l && !l.startsWith('#'));

test('every per-source, per-sink, per-enricher and per-job series exists from start-up; a reload keeps values and drops removed components', async () => {
  const m = new Metrics({ defaults: false });
  m.initComponents({
    jobs: ['feed_a', 'sink:siem', 'enrich:vt', 'expire'],
    sources: ['feed_a'],
    sinks: ['siem'],
    enrichers: ['vt'],
  });
  const s = await seriesOf(m);
  for (const line of [
    'stixgate_job_last_success_timestamp_seconds{job_name="feed_a"} 0',
    'stixgate_job_last_success_timestamp_seconds{job_name="sink:siem"} 0',
    'stixgate_job_last_success_timestamp_seconds{job_name="expire"} 0',
    'stixgate_job_runs_total{job_name="feed_a",outcome="error"} 0',
    'stixgate_job_runs_total{job_name="feed_a",outcome="success"} 0',
    'stixgate_source_records_received_total{source="feed_a"} 0',
    'stixgate_sink_lag_changes{sink="siem"} 0',
    'stixgate_sink_paused{sink="siem"} 0',
    'stixgate_sink_last_success_timestamp_seconds{sink="siem"} 0',
    'stixgate_sink_pushed_total{sink="siem"} 0',
    'stixgate_sink_rejected_total{sink="siem"} 0',
    'stixgate_enrich_requests_total{enricher="vt"} 0',
    'stixgate_config_reloads_total{outcome="refused"} 0',
  ])
    assert.ok(s.includes(line), line);

  m.lastSuccess.set({ job_name: 'feed_a' }, 1_700_000_000);
  m.sinkPaused.set({ sink: 'siem' }, 1);
  m.initComponents({ jobs: ['feed_a', 'feed_b'], sources: ['feed_a', 'feed_b'], sinks: [], enrichers: [] });
  const after = await seriesOf(m);
  assert.ok(
    after.includes('stixgate_job_last_success_timestamp_seconds{job_name="feed_a"} 1700000000'),
    'a kept job keeps its value',
  );
  assert.ok(after.includes('stixgate_job_last_success_timestamp_seconds{job_name="feed_b"} 0'));
  assert.deepEqual(
    after.filter((l) => /siem|enrich:vt|"vt"|"expire"/.test(l)),
    [],
    'removed components have no series',
  );
});

test('every alert rule has a runbook section in docs/operating.md and names only catalogued metrics', () => {
  const alerts = readFileSync(join(PROJECT_ROOT, 'deploy', 'prometheus', 'alerts.yml'), 'utf8');
  const doc = readFileSync(join(PROJECT_ROOT, 'docs', 'operating.md'), 'utf8');
  const anchors = new Set(
    [...doc.matchAll(/^### (.+)$/gm)].map((m) =>
      must(m[1], 'm[1]')
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, '')
        .replace(/ /g, '-'),
    ),
  );
  const urls = [...alerts.matchAll(/runbook_url: "docs\/operating\.md#([a-z0-9-]+)"/g)].map((m) => m[1]);
  assert.equal(urls.length, [...alerts.matchAll(/- alert: /g)].length, 'one runbook per alert');
  for (const a of urls) assert.ok(anchors.has(must(a, 'a')), `docs/operating.md has no section for #${a}`);
  const declared = new Set(metricCatalogue().map((m) => m.name));
  for (const name of new Set(alerts.match(/\b(?:stixgate|process|nodejs)_[a-z0-9_]+/g) ?? []))
    assert.ok(declared.has(name.replace(/_(bucket|count|sum)$/, '')), name);
});
