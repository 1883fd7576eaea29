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

test('validate --probe reaches every document source (text_list, csv, stix_bundle, cisa_kev) without downloading it', {
  timeout: 300_000,
}, async () => {
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
    writeFileSync(
      join(dir, 'bundle.json'),
      JSON.stringify({ type: 'bundle', id: 'bundle--6ba7b810-9dad-11d1-80b4-00c04fd430c8', objects: [] }),
    );
    const loop = 'allow_private: true\n    allow_insecure: true';
    writeFileSync(
      join(dir, 'c.yaml'),
      `sources:
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
`,
    );
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
  writeFileSync(
    join(dir, 'c.yaml'),
    'sources:\n  f:\n    type: csv\n    url: https://feeds.example.org/x.csv\n    mapping: no_such_map\n',
  );
  const r = await cli(['validate', '-c', join(dir, 'c.yaml')]);
  assert.equal(r.status, 2, r.stdout);
  assert.match(
    r.stderr,
    /sources\.f\.mapping \(line 5, column 14\): cannot read column map .*mappings\/csv\/no_such_map\.yaml: ENOENT/,
  );
  assert.equal(r.stdout, '');
});

test('errors found while building components carry the line of the key they are about, or of the component', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-probe-'));
  writeFileSync(
    join(dir, 'c.yaml'),
    [
      'sources:',
      '  g:',
      '    type: text_list',
      '    url: https://feeds.example.org/x.txt',
      '    ca_file: ./missing-ca.pem',
      '  both:',
      '    type: csv',
      '    url: https://feeds.example.org/x.csv',
      '    mapping: feodotracker',
      '    columns: { value: 0 }',
      '',
    ].join('\n'),
  );
  const r = await cli(['validate', '-c', join(dir, 'c.yaml')]);
  assert.equal(r.status, 2, r.stdout + r.stderr);
  // the reason names the key (ca_file)
  assert.match(
    r.stderr,
    /^ {2}- sources\.g\.ca_file \(line 5, column 14\): g: CA file .*missing-ca\.pem could not be read/m,
  );
  // nothing names a key: the component's own line
  assert.match(
    r.stderr,
    /^ {2}- sources\.both \(line 7, column 5\): .*set either `mapping` or inline `columns`, not both/m,
  );
});

test('validate --probe reaches every enricher type with its credentials, and names the one whose key is refused', {
  timeout: 300_000,
}, async () => {
  const { VirusTotalSimulator } = await import('../../integrations/virustotal/simulator.js');
  const { AbuseIpdbSimulator } = await import('../../integrations/abuseipdb/simulator.js');
  const { ShodanSimulator } = await import('../../integrations/shodan/simulator.js');
  const { RdapSimulator } = await import('../../integrations/rdap/simulator.js');
  const { PassiveDnsSimulator } = await import('../../integrations/passive_dns/simulator.js');
  const { registry } = await import('../../integrations/index.js');
  // a new enricher type fails here until it has a probe and a case below
  assert.deepEqual(
    registry
      .filter((d) => d.kind === 'enricher')
      .map((d) => d.type)
      .sort(),
    ['abuseipdb', 'passive_dns', 'rdap', 'shodan', 'virustotal'],
  );
  const vt = new VirusTotalSimulator({ apiKeys: ['vt-key'] });
  const ab = new AbuseIpdbSimulator({ apiKeys: ['ab-key'] });
  const sh = await new ShodanSimulator({ apiKey: 'sh-key' }).start();
  const rd = await new RdapSimulator({}).start();
  const pd = await new PassiveDnsSimulator({ username: 'u', password: 'p' }).start();
  const vtBase = (await vt.start()).base;
  const abBase = (await ab.start()).base;
  try {
    const dir = mkdtempSync(join(tmpdir(), 'stixgate-probe-'));
    const loop = 'allow_private: true\n    allow_insecure: true';
    const enrichers = (vtKey: string, abKey: string, shKey: string, pdPass: string): string => `enrichers:
  vt:
    type: virustotal
    url: ${vtBase}
    api_key: ${vtKey}
    ${loop}
  ab:
    type: abuseipdb
    url: ${abBase}
    api_key: ${abKey}
    ${loop}
  sh:
    type: shodan
    url: ${sh.base}
    api_key: ${shKey}
    ${loop}
  rd:
    type: rdap
    url: ${rd.base}
    ${loop}
  rb:
    type: rdap
    bootstrap_url: ${rd.base}/bootstrap/
    ${loop}
  pd:
    type: passive_dns
    url: ${pd.base}/pdns/query/
    username: u
    password: ${pdPass}
    ${loop}
`;
    writeFileSync(join(dir, 'good.yaml'), enrichers('vt-key', 'ab-key', 'sh-key', 'p'));
    const good = await cli(['validate', '--probe', '-c', join(dir, 'good.yaml')]);
    assert.equal(good.status, 0, good.stdout + good.stderr);
    assert.doesNotMatch(good.stdout, /no probe|FAILED/);
    assert.match(
      good.stdout,
      /^ {2}enricher vt: ok virustotal answered HTTP 404 \(nothing known\), credentials accepted; one request of the quota$/m,
    );
    assert.match(
      good.stdout,
      /^ {2}enricher ab: ok abuseipdb answered HTTP 200, credentials accepted; one check of the daily quota, \d+ left today$/m,
    );
    assert.match(
      good.stdout,
      /^ {2}enricher sh: ok shodan answered HTTP 200, credentials accepted; no query credit spent \(plan dev, 100 query credits left\)$/m,
    );
    assert.match(good.stdout, /^ {2}enricher rd: ok rdap answered HTTP 200, credentials accepted; no key needed$/m);
    assert.match(good.stdout, /^ {2}enricher rb: ok rdap bootstrap readable$/m);
    assert.match(
      good.stdout,
      /^ {2}enricher pd: ok passive_dns answered HTTP (200|404 \(nothing known\)), credentials accepted; one query$/m,
    );
    // each service saw exactly its probe request
    assert.deepEqual(
      vt.requests.map((r) => r.path),
      ['/api/v3/domains/example.com'],
    );
    assert.deepEqual(
      ab.requests.map((r) => r.path),
      ['/api/v2/check?ipAddress=127.0.0.1&maxAgeInDays=1'],
    );
    assert.deepEqual(
      sh.requests.map((r) => r.path),
      ['/api-info?key=***'],
    );

    writeFileSync(join(dir, 'bad.yaml'), enrichers('wrong', 'wrong', 'wrong', 'wrong'));
    const bad = await cli(['validate', '--probe', '-c', join(dir, 'bad.yaml')]);
    assert.equal(bad.status, 1, bad.stdout + bad.stderr);
    for (const id of ['vt', 'ab', 'sh', 'pd'])
      assert.match(bad.stdout, new RegExp(`^  enricher ${id}: FAILED .*(refused the credentials|401)`, 'm'));
    assert.match(bad.stdout, /^ {2}enricher rd: ok /m);
    for (const secret of ['vt-key', 'ab-key', 'sh-key', 'wrong'])
      assert.ok(!bad.stdout.includes(secret) && !good.stdout.includes(secret), `${secret} printed`);
  } finally {
    await Promise.all([vt.close(), ab.close(), sh.close(), rd.close(), pd.close()]);
  }
});
