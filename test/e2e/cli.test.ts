import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { must } from '../helpers/must.js';
import { anyExited, untilValue } from '../helpers/until.js';

const CLI = join(PROJECT_ROOT, 'src', 'cli.ts');
const dir = mkdtempSync(join(tmpdir(), 'stixgate-cli-'));
const list = join(dir, 'list.txt');
writeFileSync(
  list,
  '# fixture\n198.51.100.1\n198.51.100.2\nhxxps://phish.example[.]com/login\n203.0.113.0/25\nthis is not an indicator\n',
);
const emptyConfig = join(dir, 'empty.yaml');
writeFileSync(emptyConfig, '{}\n');

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
}

test('convert prints a STIX 2.1 bundle and reports rejections on stderr', () => {
  const r = cli(['convert', list, '--from', 'text_list', '-c', emptyConfig, '--now', '2026-02-03T04:05:06Z']);
  assert.equal(r.status, 0, r.stderr);
  const bundle = JSON.parse(r.stdout) as { type: string; id: string; objects: { type: string; pattern: string }[] };
  assert.equal(bundle.type, 'bundle');
  assert.match(bundle.id, /^bundle--[0-9a-f-]{36}$/);
  assert.deepEqual(bundle.objects.map((o) => o.pattern).sort(), [
    "[ipv4-addr:value = '198.51.100.1']",
    "[ipv4-addr:value = '198.51.100.2']",
    "[ipv4-addr:value = '203.0.113.0/25']",
    "[url:value = 'https://phish.example.com/login']",
  ]);
  assert.match(r.stderr, /1 record\(s\) rejected/);
  assert.match(r.stderr, /line 6/);
  // deterministic: the same file converts to the same bytes
  assert.equal(
    cli(['convert', list, '--from', 'text_list', '-c', emptyConfig, '--now', '2026-02-03T04:05:06Z']).stdout,
    r.stdout,
  );
  assert.ok(
    bundle.objects.every((o) => (o as unknown as { valid_from: string }).valid_from === '2026-02-03T04:05:06.000Z'),
  );
});

test('ingest, lookup (exit 0 only when every value matched), stats', () => {
  const data = join(dir, 'data');
  const ing = cli(['ingest', list, '--from', 'text_list', '--data-dir', data, '--quiet', '-c', emptyConfig]);
  assert.equal(ing.status, 0, ing.stderr);
  const counts = JSON.parse(must(ing.stdout.trim().split('\n').pop(), "ing.stdout.trim().split('\\n').pop()")) as {
    created: number;
    rejected: number;
  };
  assert.equal(counts.created, 4);
  assert.equal(counts.rejected, 1);
  const again = JSON.parse(
    must(
      cli(['ingest', list, '--from', 'text_list', '--data-dir', data, '--quiet', '-c', emptyConfig])
        .stdout.trim()
        .split('\n')
        .pop(),
      "cli(['ingest', list, '--from', 'text_list', '--data-dir',...",
    ),
  ) as { created: number; updated: number; unchanged: number };
  assert.deepEqual([again.created, again.updated, again.unchanged], [0, 0, 4]);

  const hit = cli(['lookup', '203.0.113.77', 'https://PHISH.example.com/login', '--data-dir', data, '-c', emptyConfig]);
  assert.equal(hit.status, 0, hit.stdout + hit.stderr);
  assert.match(hit.stdout, /203\.0\.113\.77\tMATCH indicator--/);
  const miss = cli(['lookup', '203.0.113.77', '192.0.2.1', '--json', '--data-dir', data, '-c', emptyConfig]);
  assert.equal(miss.status, 1);
  const json = JSON.parse(miss.stdout) as { results: { matched: boolean }[] };
  assert.deepEqual(
    json.results.map((x) => x.matched),
    [true, false],
  );

  const stats = JSON.parse(cli(['stats', '--data-dir', data, '-c', emptyConfig]).stdout) as {
    objects: number;
    byType: Record<string, number>;
  };
  assert.equal(stats.objects, 4);
  assert.equal(stats.byType.indicator, 4);
});

test('validate: exit 2 with every problem and its path; --show redacts secrets', () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    'sources:\n  f:\n    type: text_list\n    url: https://feeds.example.org/x\n    verfiy_tls: true\n    tlp: purple\n',
  );
  const r = cli(['validate', '-c', bad]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /sources\.f\.verfiy_tls \(line 5, column 5\): unknown key \(did you mean "verify_tls"\?\)/);
  assert.match(r.stderr, /sources\.f\.tlp \(line 6, column 10\): must be one of/);
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'sources:\n  f:\n    type: text_list\n    url: "https://feeds.example.org/x?key=${FEED_KEY}"\n', {
    mode: 0o600,
  });
  const canary = 'canary-5b9e3f0a-secret';
  const show = cli(['validate', '-c', good, '--show'], { FEED_KEY: canary });
  assert.equal(show.status, 0, show.stderr);
  assert.match(show.stdout, /valid \(1 source\(s\), 0 sink\(s\)\)/);
  assert.ok(!show.stdout.includes(canary) && !show.stderr.includes(canary));
});

test('X1: a secret in a feed URL never reaches logs or /metrics, even when the feed fails', {
  timeout: 180_000,
}, async () => {
  const canary = 'canary-77d1c2e9-secret';
  const cfg = join(dir, 'daemon.yaml');
  writeFileSync(
    cfg,
    `data_dir: ${join(dir, 'd2')}\nserver: { anonymous_lookup: true, metrics_public: true }\nsources:\n  f:\n    type: text_list\n    url: "http://127.0.0.1:9/list.txt?key=\${FEED_KEY}"\n    allow_private: true\n    allow_insecure: true\n    retry: { max_attempts: 1 }\n`,
    { mode: 0o600 },
  );
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'run', '-c', cfg, '--port', '0'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, FEED_KEY: canary, STIXGATE_LOG_LEVEL: 'debug' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  try {
    // waits for the event (the failed poll logged); the daemon's end fails the wait at once
    await untilValue('the daemon logs the failed poll', () => /"job":"f"/.test(out) || undefined, {
      ms: 120_000,
      gone: anyExited([child], () => out),
    });
    const address = must(/"address":"(http:\/\/[^"]+)"/.exec(out), '/"address":"(http:\\/\\/[^"]+)"/.exec(out)')[1];
    const metrics = await (await fetch(`${address}/metrics`)).text();
    assert.match(metrics, /stixgate_job_errors_total\{job_name="f"/);
    assert.ok(!metrics.includes(canary));
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
  }
  assert.match(out, /127\.0\.0\.1:9/);
  assert.ok(!out.includes(canary), 'the secret appears in the logs');
});
