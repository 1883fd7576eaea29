import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { listenLoopback, closeServer } from '../../integrations/loopback-server.js';

const CLI = join(PROJECT_ROOT, 'src', 'cli.ts');

function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: PROJECT_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

test('validate --probe reaches every document source (text_list, csv, stix_bundle, cisa_kev) without downloading it', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-probe-'));
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url === '/list.txt') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '13' });
      res.end(req.method === 'HEAD' ? undefined : '198.51.100.7\n');
    } else if (req.url === '/feodo.csv' && req.method === 'HEAD') {
      res.writeHead(405).end(); // a server without HEAD: the probe falls back to GET
    } else if (req.url === '/feodo.csv') {
      res.writeHead(200, { 'content-type': 'text/csv' }).end('# none\n');
    } else res.writeHead(404).end();
  });
  const base = await listenLoopback(server);
  try {
    writeFileSync(join(dir, 'bundle.json'), JSON.stringify({ type: 'bundle', id: 'bundle--6ba7b810-9dad-11d1-80b4-00c04fd430c8', objects: [] }));
    const loop = 'allow_private: true\n    allow_insecure: true';
    writeFileSync(join(dir, 'c.yaml'), `sources:
  t:
    type: text_list
    url: ${base}/list.txt
    ${loop}
  c:
    type: csv
    url: ${base}/feodo.csv
    mapping: feodotracker
    ${loop}
  b:
    type: stix_bundle
    url: file://${join(dir, 'bundle.json')}
  k:
    type: cisa_kev
    url: ${base}/kev.json
    ${loop}
`);
    const r = await cli(['validate', '--probe', '-c', join(dir, 'c.yaml')]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /no probe/);
    assert.match(r.stdout, /^ {2}t: ok HTTP 200, 13 bytes$/m);
    assert.match(r.stdout, /^ {2}c: ok HTTP 200$/m);
    assert.match(r.stdout, new RegExp(`^  b: ok readable, ${join(dir, 'bundle.json').replace(/[.]/g, '\\.')}$`, 'm'));
    assert.match(r.stdout, /^ {2}k: FAILED .*404/m);
    assert.deepEqual(requests.sort(), ['GET /feodo.csv', 'HEAD /feodo.csv', 'HEAD /kev.json', 'HEAD /list.txt']);
  } finally {
    await closeServer(server);
  }
});

test('validate reports a mapping file that does not exist (exit 2), with the source it belongs to', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-probe-'));
  writeFileSync(join(dir, 'c.yaml'), 'sources:\n  f:\n    type: csv\n    url: https://feeds.example.org/x.csv\n    mapping: no_such_map\n');
  const r = await cli(['validate', '-c', join(dir, 'c.yaml')]);
  assert.equal(r.status, 2, r.stdout);
  assert.match(r.stderr, /sources\.f: cannot read column map .*mappings\/csv\/no_such_map\.yaml: ENOENT/);
  assert.equal(r.stdout, '');
});
