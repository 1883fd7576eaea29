import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { must } from '../helpers/must.js';
import { anyExited, untilValue } from '../helpers/until.js';

const CLI = join(PROJECT_ROOT, 'src', 'cli.ts');
const dir = mkdtempSync(join(tmpdir(), 'stixgate-cli-out-'));
const emptyConfig = join(dir, 'empty.yaml');
writeFileSync(emptyConfig, '{}\n');

function cli(args: string[], input?: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    input,
    maxBuffer: 64 * 1024 * 1024,
  });
}

test('lookup --json is complete on a pipe, far beyond the 64 KiB a pipe takes at once', () => {
  const values = Array.from({ length: 3000 }, (_, i) => `198.18.${i >> 8}.${i & 255}`);
  const r = cli(['lookup', ...values, '--json', '--data-dir', join(dir, 'data'), '-c', emptyConfig]);
  assert.equal(r.status, 1, r.stderr);
  assert.ok(r.stdout.length > 256 * 1024, `${r.stdout.length} bytes`);
  const json = JSON.parse(r.stdout) as { results: { value: string; matched: boolean }[] };
  assert.equal(json.results.length, 3000);
  assert.equal(must(json.results[2999], 'json.results[2999]').value, '198.18.11.183');
});

test('convert prints nothing on stdout when the input fails half-way', () => {
  const indicator = (n: number) => ({
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--6ba7b810-9dad-11d1-80b4-00c04fd430c${n}`,
    created: '2026-01-01T00:00:00.000Z',
    modified: '2026-01-01T00:00:00.000Z',
    pattern: `[ipv4-addr:value = '198.51.100.${n}']`,
    pattern_type: 'stix',
    valid_from: '2026-01-01T00:00:00.000Z',
  });
  const whole = JSON.stringify({
    type: 'bundle',
    id: 'bundle--6ba7b810-9dad-11d1-80b4-00c04fd430c8',
    objects: [1, 2, 3].map(indicator),
  });
  writeFileSync(join(dir, 'whole.json'), whole);
  const ok = cli(['convert', join(dir, 'whole.json'), '--from', 'stix_bundle', '-c', emptyConfig]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal((JSON.parse(ok.stdout) as { objects: unknown[] }).objects.length, 3);
  // the same bundle cut inside its third object: two objects were already mapped when it fails
  writeFileSync(join(dir, 'cut.json'), whole.slice(0, whole.lastIndexOf('{"type":"indicator"') + 30));
  const cut = cli(['convert', join(dir, 'cut.json'), '--from', 'stix_bundle', '-c', emptyConfig]);
  assert.equal(cut.status, 3, cut.stdout + cut.stderr);
  assert.equal(cut.stdout, '');
  assert.match(cut.stderr, /^stixgate: /);
});

test('hash-key reads the key from stdin; a key on the command line still works, with a warning', () => {
  const piped = cli(['hash-key'], 'k3y-5ecret\n');
  assert.equal(piped.status, 0, piped.stderr);
  assert.match(piped.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(piped.stderr, '');
  const arg = cli(['hash-key', 'k3y-5ecret']);
  assert.equal(arg.stdout, piped.stdout);
  assert.match(arg.stderr, /visible to other users/);
  const none = cli(['hash-key'], '');
  assert.equal(none.status, 2);
});

test('usage errors exit 2 before anything runs', () => {
  for (const args of [
    ['run', '--port', 'abc'],
    ['run', '--port', '70000'],
    ['run', '--no-such-option'],
    ['simulate', '--port', 'splunk'],
    ['lookup'],
  ]) {
    const r = cli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error: /, args.join(' '));
  }
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

test('simulate --port listens where asked; --write-config writes the credentials with mode 0600', {
  timeout: 300_000,
}, async () => {
  const port = await freePort();
  const target = join(dir, 'sim.yaml');
  writeFileSync(target, 'old: true\n', { mode: 0o644 });
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI,
      'simulate',
      '--only',
      'splunk',
      '--port',
      `splunk=${port}`,
      '--write-config',
      target,
      '-c',
      emptyConfig,
    ],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  must(child.stdout, 'child.stdout').on('data', (d) => (out += d));
  must(child.stderr, 'child.stderr').on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  try {
    await untilValue('the simulators report running', () => err.includes('simulators running') || undefined, {
      ms: 120_000,
      gone: anyExited([child], () => err),
    });
    assert.match(out, new RegExp(`url: http://127\\.0\\.0\\.1:${port}\\n`));
    assert.equal(statSync(target).mode & 0o777, 0o600);
    const state = await fetch(`http://127.0.0.1:${port}/__sim/state`);
    assert.equal(state.status, 200);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, err);
});
