import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { metricCatalogue } from '../../src/telemetry/reference.js';
import { must } from '../helpers/must.js';
import { anyExited, untilValue } from '../helpers/until.js';

/**
 * A real Prometheus (Debian's package; scripts/integration.sh installs it when missing) scrapes a
 * running daemon on loopback with the shipped alert rules loaded. Every metric an alert rule names
 * must exist as a series (they all exist from start-up), every metric a dashboard panel names must
 * be in the catalogue (per-reason series appear with their first event), every expression must
 * evaluate, and every rule must evaluate with health "ok": a renamed metric cannot leave an alert
 * silently dead.
 */

const ALERTS = join(PROJECT_ROOT, 'deploy', 'prometheus', 'alerts.yml');
const DASHBOARD = join(PROJECT_ROOT, 'deploy', 'grafana', 'stixgate.json');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Polls `fn` for a value; fails at once when one of `children` has exited, naming its output. */
function until<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  children: ChildProcess[],
  log: () => string,
): Promise<T> {
  return untilValue(what, fn, { ms: 180_000, every: 250, gone: anyExited(children, log) });
}

/** The metric names an expression selects (PromQL identifiers that are ours or the standard ones). */
export function metricNames(expr: string): string[] {
  const names =
    expr.match(/\b(?:stixgate_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+|up)\b(?=\s*[{[)\s]|$)/g) ?? [];
  return [...new Set(names)];
}

test('Prometheus scrapes the daemon; every alert and dashboard expression evaluates on real series', {
  timeout: 240_000,
}, async () => {
  const prometheus = spawnSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).stdout.trim();
  assert.ok(prometheus, "prometheus is not installed (scripts/integration.sh installs Debian's package)");

  const dir = mkdtempSync(join(tmpdir(), 'stixgate-prom-'));
  writeFileSync(join(dir, 'list.txt'), '198.51.100.7\n203.0.113.9\n');
  const cfg = join(dir, 'stixgate.yaml');
  // a source that succeeds and a sink that fails (nothing listens on port 9): its lag must count
  writeFileSync(
    cfg,
    `data_dir: ${join(dir, 'data')}
server: { port: 0, metrics_public: true, anonymous_lookup: true }
sources:
  local_list:
    type: text_list
    url: file://${join(dir, 'list.txt')}
    value_type: ipv4-addr
    interval_secs: 3600
sinks:
  siem:
    type: splunk_kv
    url: http://127.0.0.1:9
    auth: { bearer_token: not-a-real-token }
    app: search
    collection: stixgate_indicators
    allow_private: true
    allow_insecure: true
    interval_secs: 5
`,
  );
  let log = '';
  const daemon = spawn(
    process.execPath,
    ['--import', 'tsx', join(PROJECT_ROOT, 'src', 'cli.ts'), 'run', '--config', cfg],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  must(daemon.stdout, 'daemon.stdout').on('data', (d) => (log += d));
  must(daemon.stderr, 'daemon.stderr').on('data', (d) => (log += d));
  const children: ChildProcess[] = [daemon];
  try {
    const info = await until(
      'daemon file',
      async () =>
        existsSync(join(dir, 'data', 'daemon.json'))
          ? (JSON.parse(readFileSync(join(dir, 'data', 'daemon.json'), 'utf8')) as { url: string })
          : undefined,
      children,
      () => log,
    );
    const target = new URL(info.url).host;
    // one lookup, so the latency histogram has buckets
    await until(
      'lookup',
      async () => ((await fetch(`${info.url}/api/v1/lookup?value=198.51.100.7`)).ok ? true : undefined),
      children,
      () => log,
    );

    const promPort = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: ['${ALERTS}']
scrape_configs:
  - job_name: stixgate
    static_configs: [{ targets: ['${target}'] }]
`,
    );
    const prom = spawn(
      prometheus,
      [
        '--config.file',
        join(dir, 'prometheus.yml'),
        '--storage.tsdb.path',
        join(dir, 'tsdb'),
        '--web.listen-address',
        `127.0.0.1:${promPort}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    must(prom.stdout, 'prom.stdout').on('data', (d) => (log += d));
    must(prom.stderr, 'prom.stderr').on('data', (d) => (log += d));
    children.push(prom);
    const api = `http://127.0.0.1:${promPort}/api/v1`;
    const query = async (q: string) => {
      const r = (await (await fetch(`${api}/query?query=${encodeURIComponent(q)}`)).json()) as {
        status: string;
        error?: string;
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      assert.equal(r.status, 'success', `${q}: ${r.error}`);
      return r.data.result;
    };
    // scraped, and the failing sink's lag counts the changes it has not delivered
    await until(
      'scrape',
      async () => ((await query('up{job="stixgate"} == 1')).length ? true : undefined),
      children,
      () => log,
    );
    const lag = await until(
      'lag',
      async () => {
        const r = await query('stixgate_sink_lag_changes{sink="siem"} > 0');
        return r.length ? Number(must(r[0], 'r[0]').value[1]) : undefined;
      },
      children,
      () => log,
    );
    const head = Number(
      must((await query('stixgate_store_changelog_head'))[0], "(await query('stixgate_store_changelog_head'))[0]")
        .value[1],
    );
    assert.equal(lag, head, 'a sink that never delivered is behind by the whole change log');
    await until(
      'the sink fails',
      async () =>
        (await query('stixgate_job_runs_total{job_name="sink:siem",outcome="error"} > 0')).length ? true : undefined,
      children,
      () => log,
    );

    const rules = (
      parseYaml(readFileSync(ALERTS, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }
    ).groups.flatMap((g) => g.rules);
    const panels = (
      JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] }
    ).panels;
    const dashboardExprs = panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({
        name: `panel "${p.title}"`,
        expr: t.expr.replaceAll('$instance', '.*'),
        live: false,
      })),
    );
    const exprs = [...rules.map((r) => ({ name: `alert ${r.alert}`, expr: r.expr, live: true })), ...dashboardExprs];
    assert.ok(rules.length >= 7 && dashboardExprs.length >= 20);
    const declared = new Set(metricCatalogue().map((m) => m.name));
    for (const { name, expr, live } of exprs) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `${name}: no metric found in ${expr}`);
      for (const metric of names) {
        if (metric !== 'up')
          assert.ok(
            declared.has(metric.replace(/_(bucket|count|sum)$/, '')),
            `${name}: ${metric} is not in the metrics catalogue`,
          );
        if (live) assert.ok((await query(`count(${metric})`)).length > 0, `${name}: no series named ${metric}`);
      }
      await query(expr);
    }

    // the rules loaded into Prometheus evaluate without error
    const loaded = await until(
      'rule evaluation',
      async () => {
        const r = (await (await fetch(`${api}/rules`)).json()) as {
          data: { groups: { rules: { name: string; health: string; lastError?: string; lastEvaluation: string }[] }[] };
        };
        const all = r.data.groups.flatMap((g) => g.rules);
        return all.length && all.every((x) => !x.lastEvaluation.startsWith('0001')) ? all : undefined;
      },
      children,
      () => log,
    );
    assert.deepEqual(loaded.map((r) => r.name).sort(), rules.map((r) => r.alert).sort());
    for (const r of loaded) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError}`);
  } finally {
    for (const c of children.reverse()) c.kill('SIGTERM');
  }
});
