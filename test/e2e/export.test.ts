import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DAEMON_FILE, writeDaemonFile } from '../../src/daemon-file.js';
import { buildIndex } from '../../src/lookup/index.js';
import { hashApiKey } from '../../src/server/index.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { serverConfig, quietServer } from '../server/helpers.js';

const CLI = join(PROJECT_ROOT, 'src', 'cli.ts');
const dir = mkdtempSync(join(tmpdir(), 'stixgate-export-'));
const data = join(dir, 'data');
const config = join(dir, 'empty.yaml');
writeFileSync(config, '{}\n');
const list = join(dir, 'list.txt');
writeFileSync(list, '198.51.100.1\n198.51.100.2\nhxxps://phish.example[.]com/login\n203.0.113.0/25\n');
const clearList = join(dir, 'clear.txt');
writeFileSync(clearList, '192.0.2.9\n');

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
}
function cliAsync(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
const exp = (...args: string[]) => cli(['export', '--data-dir', data, '-c', config, ...args]);
type Bundle = {
  type: string;
  id: string;
  objects: { type: string; id: string; pattern?: string; x_stixgate?: { sources: Record<string, unknown> } }[];
};

describe('stixgate export', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ingests two lists: one unmarked (amber by default), one TLP:CLEAR', () => {
    assert.equal(
      cli([
        'ingest',
        list,
        '--from',
        'text_list',
        '--data-dir',
        data,
        '--quiet',
        '-c',
        config,
        '--source-id',
        'amberlist',
      ]).status,
      0,
    );
    const r = cli([
      'ingest',
      clearList,
      '--from',
      'text_list',
      '--data-dir',
      data,
      '--quiet',
      '-c',
      config,
      '-o',
      'tlp=clear',
      '--source-id',
      'clearlist',
    ]);
    assert.equal(r.status, 0, r.stderr);
  });

  it('writes a STIX 2.1 bundle of what the --max-tlp ceiling sees, with the search filters', () => {
    const green = exp('--type', 'indicator');
    assert.equal(green.status, 0, green.stderr);
    const g = JSON.parse(green.stdout) as Bundle;
    assert.equal(g.type, 'bundle');
    assert.match(g.id, /^bundle--[0-9a-f-]{36}$/);
    assert.deepEqual(
      g.objects.map((o) => o.pattern),
      ["[ipv4-addr:value = '192.0.2.9']"],
      'green (the default) sees the clear list only',
    );
    const amber = JSON.parse(exp('--type', 'indicator', '--max-tlp', 'amber').stdout) as Bundle;
    assert.deepEqual(amber.objects.map((o) => o.pattern).sort(), [
      "[ipv4-addr:value = '192.0.2.9']",
      "[ipv4-addr:value = '198.51.100.1']",
      "[ipv4-addr:value = '198.51.100.2']",
      "[ipv4-addr:value = '203.0.113.0/25']",
      "[url:value = 'https://phish.example.com/login']",
    ]);
    const cidr = JSON.parse(
      exp('--type', 'indicator', '--max-tlp', 'amber', '--cidr', '198.51.100.0/24').stdout,
    ) as Bundle;
    assert.deepEqual(cidr.objects.map((o) => o.pattern).sort(), [
      "[ipv4-addr:value = '198.51.100.1']",
      "[ipv4-addr:value = '198.51.100.2']",
    ]);
    const again = JSON.parse(exp('--type', 'indicator').stdout) as Bundle;
    assert.equal(again.id, g.id, 'the same objects give the same bundle id');
    assert.notEqual(amber.id, g.id);
  });

  it('--output writes the file atomically: the same bytes as stdout, no temporary file left', () => {
    const out = join(dir, 'out', 'bundle.json');
    rmSync(join(dir, 'out'), { recursive: true, force: true });
    spawnSync('mkdir', ['-p', join(dir, 'out')]);
    const r = exp('--max-tlp', 'amber', '--output', out);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(readFileSync(out, 'utf8'), exp('--max-tlp', 'amber').stdout);
    assert.deepEqual(readdirSync(join(dir, 'out')), ['bundle.json']);
  });

  it('on failure nothing reaches stdout and an existing --output file is left as it was', () => {
    const bad = exp('--tlp', 'purple');
    assert.equal(bad.status, 2);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /--tlp: tlp must be among clear/);
    const out = join(dir, 'kept.json');
    writeFileSync(out, 'previous export\n');
    const missing = cli([
      'export',
      '--data-dir',
      join(dir, 'nowhere', 'x'),
      '-c',
      join(dir, 'no-such.yaml'),
      '--output',
      out,
    ]);
    assert.notEqual(missing.status, 0);
    assert.equal(readFileSync(out, 'utf8'), 'previous export\n');
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
  });

  it("while a daemon holds the store: exits 3 with nothing on stdout without a key; with $STIXGATE_API_KEY reads the daemon's search API", async () => {
    const local = JSON.parse(exp('--type', 'indicator', '--max-tlp', 'amber').stdout) as Bundle;
    const store = await openEmbeddedStore({ dataDir: data });
    const key = 'k-export-3a2b1c0d9e8f7a6b5c4d';
    const { index } = await buildIndex(store, { now: Date.now });
    const app = quietServer({
      config: serverConfig({ api_keys: { exporter: { hash: hashApiKey(key), scopes: ['search'], max_tlp: 'amber' } } }),
      index,
      store,
    });
    try {
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      writeDaemonFile(data, { pid: process.pid, url, config, started: new Date().toISOString() });
      const locked = await cliAsync(['export', '--data-dir', data, '-c', config]);
      assert.equal(locked.status, 3);
      assert.equal(locked.stdout, '');
      assert.match(locked.stderr, /STIXGATE_API_KEY/);
      const remote = await cliAsync(['export', '--data-dir', data, '-c', config, '--type', 'indicator'], {
        STIXGATE_API_KEY: key,
      });
      assert.equal(remote.status, 0, remote.stderr);
      const b = JSON.parse(remote.stdout) as Bundle;
      assert.equal(b.objects.length, 5, "the key's amber ceiling");
      assert.deepEqual(b.objects, local.objects, 'the same objects as a local export at the same ceiling');
      const wrongKey = await cliAsync(['export', '--data-dir', data, '-c', config], {
        STIXGATE_API_KEY: 'k-not-a-key-000000000000',
      });
      assert.equal(wrongKey.status, 3);
      assert.equal(wrongKey.stdout, '');
      assert.match(wrongKey.stderr, /refused GET \/api\/v1\/objects: 401/);
    } finally {
      await app.close();
      await store.close();
      rmSync(join(data, DAEMON_FILE), { force: true });
    }
    assert.equal(existsSync(join(data, DAEMON_FILE)), false);
  });
});
