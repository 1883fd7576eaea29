import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { must } from '../helpers/must.js';
import { anyExited, untilValue } from '../helpers/until.js';

const CLI = join(PROJECT_ROOT, 'src', 'cli.ts');

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
}

/** Resolves once the daemon has written its daemon.json (it listens by then), with the file's content. */
async function daemonFile(
  child: ChildProcess,
  dataDir: string,
  log: () => string,
): Promise<{ pid: number; url: string }> {
  const path = join(dataDir, 'daemon.json');
  return untilValue(
    'the daemon writes daemon.json',
    () => (existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { pid: number; url: string }) : undefined),
    { ms: 120_000, gone: anyExited([child], log) },
  );
}

function configWith(dir: string, port: number, sources: string): string {
  const path = join(dir, 'stixgate.yaml');
  writeFileSync(path, `data_dir: ${join(dir, 'data')}\nserver:\n  port: ${port}\nsources:${sources}\n`, {
    mode: 0o600,
  });
  return path;
}

function listSource(dir: string): string {
  writeFileSync(join(dir, 'list.txt'), '198.51.100.7\n');
  return `
  local_list:
    type: text_list
    url: file://${join(dir, 'list.txt')}
    value_type: ipv4-addr
    interval_secs: 86400
    run_on_start: false`;
}

test('health follows the port the daemon listens on; reload reports the outcome; both fail clearly without a daemon', {
  timeout: 300_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-control-'));
  const cfg = configWith(dir, 0, ' {}');
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'run', '--config', cfg], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  must(child.stdout, 'child.stdout').on('data', (d) => (out += d));
  must(child.stderr, 'child.stderr').on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const info = await daemonFile(child, join(dir, 'data'), () => out);
    assert.equal(info.pid, child.pid);
    // port 0 in the configuration: the daemon file holds the port the kernel chose
    assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(new URL(info.url).port, '0');

    const health = cli(['health', '-c', cfg]);
    assert.equal(health.status, 0, health.stderr);
    assert.equal(health.stdout, `${info.url}/healthz: 200\n`);

    // a valid change applies
    configWith(dir, 0, listSource(dir));
    const ok = cli(['reload', '-c', cfg]);
    assert.equal(ok.status, 0, ok.stderr + out);
    assert.equal(ok.stdout, `pid ${child.pid}: configuration reloaded (1 source(s), 0 sink(s))\n`);

    // an invalid one is refused with its reason, exit 2, and the daemon keeps running
    writeFileSync(cfg, `data_dir: ${join(dir, 'data')}\nsources:\n  x:\n    type: text_list\n    tlp: purple\n`);
    const refused = cli(['reload', '-c', cfg, '--data-dir', join(dir, 'data')]);
    assert.equal(refused.status, 2, refused.stdout);
    assert.match(
      refused.stderr,
      new RegExp(`pid ${child.pid} kept its running configuration: configuration .* is invalid`),
    );
    assert.match(refused.stderr, /sources\.x\.tlp/);
    assert.equal(cli(['health', '--data-dir', join(dir, 'data')]).status, 0);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, out);
  assert.equal(existsSync(join(dir, 'data', 'daemon.json')), false, 'the daemon file is removed at shutdown');
  const down = cli(['health', '--data-dir', join(dir, 'data')]);
  assert.equal(down.status, 1);
  assert.match(down.stderr, /no daemon is running with data directory .*data \(no daemon\.json there\)/);
  const noReload = cli(['reload', '--data-dir', join(dir, 'data')]);
  assert.equal(noReload.status, 3);
});

test('a stale daemon file (its process gone) fails health and reload with the pid named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-control-'));
  // a pid far above any pid_max default: no such process
  writeFileSync(
    join(dir, 'daemon.json'),
    JSON.stringify({ pid: 4_000_000, url: 'http://127.0.0.1:9', config: 'x', started: 'x' }),
  );
  const r = cli(['health', '--data-dir', dir]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /\(pid 4000000\) is not running/);
  assert.equal(cli(['reload', '--data-dir', dir]).status, 3);
});

test('under `npm start` the daemon is reloaded through `stixgate reload` and SIGTERM to npm stops it with exit 0', {
  timeout: 300_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-npm-'));
  const dataDir = join(dir, 'data');
  const npm = spawn('npm', ['start', '--silent', '--', '--data-dir', dataDir, '--port', '0'], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, STIXGATE_LOG_LEVEL: 'info' },
  });
  let out = '';
  must(npm.stdout, 'npm.stdout').on('data', (d) => (out += d));
  must(npm.stderr, 'npm.stderr').on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => npm.on('exit', (code) => r(code)));
  let daemonPid: number | undefined;
  try {
    const info = await daemonFile(npm, dataDir, () => out);
    daemonPid = info.pid;
    assert.notEqual(info.pid, npm.pid, 'the daemon file names the node process, not npm');
    const r = cli(['reload', '--data-dir', dataDir]);
    assert.equal(r.status, 0, r.stderr + out);
    assert.match(r.stdout, new RegExp(`^pid ${info.pid}: configuration reloaded`));
    assert.equal(npm.exitCode, null, 'npm is still running');
  } finally {
    npm.kill('SIGTERM');
  }
  const code = await exited;
  // the start script execs node, so npm's forwarded SIGTERM reaches the daemon itself
  const orphan = daemonPid !== undefined && existsSync(join(dataDir, 'daemon.json'));
  if (orphan) process.kill(must(daemonPid, 'daemonPid'), 'SIGKILL');
  assert.equal(orphan, false, `the daemon outlived npm:\n${out}`);
  assert.equal(code, 0, out);
});
