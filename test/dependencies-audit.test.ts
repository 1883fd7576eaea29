import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PROJECT_ROOT } from './helpers/corpus.js';

/**
 * FAULTS X6: scripts/audit.mjs runs the real `npm audit` against a loopback registry that answers
 * the bulk advisory endpoint as the npm registry does; the policy (high/critical fail, moderate
 * listed, an unavailable endpoint is "not checked", never a pass) is judged on its exit code.
 */
async function audit(
  answer: (body: Record<string, string[]>) => { status: number; body: unknown },
  env: Record<string, string> = {},
) {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const buf = Buffer.concat(chunks);
      const raw = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(buf) : buf).toString('utf8');
      asked.push(`${req.method} ${req.url}`);
      if (req.url !== '/-/npm/v1/security/advisories/bulk') return void res.writeHead(404).end();
      const a = answer(JSON.parse(raw || '{}') as Record<string, string[]>);
      res
        .writeHead(a.status, { 'content-type': 'application/json' })
        .end(a.status === 200 ? JSON.stringify(a.body) : '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'scripts', 'audit.mjs')], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        npm_config_registry: registry,
        npm_config_audit_level: '',
        npm_config_fetch_retries: '0',
        ...env,
      },
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    return { code, out, asked };
  } finally {
    server.close();
  }
}

const advisory = (severity: string) => ({
  id: 1099999,
  url: 'https://github.com/advisories/GHSA-test-test-test',
  title: `test advisory (${severity})`,
  severity,
  vulnerable_versions: '<99.0.0',
  cwe: [],
  cvss: { score: 0, vectorString: null },
});

test('X6: npm audit policy: a high advisory in a production dependency fails, naming it; moderate is listed; none passes', async () => {
  const high = await audit((b) => ({ status: 200, body: b.undici ? { undici: [advisory('high')] } : {} }));
  assert.equal(high.asked[0], 'POST /-/npm/v1/security/advisories/bulk');
  assert.equal(high.code, 1, high.out);
  assert.match(
    high.out,
    /audit: FAIL undici .*: high \(.*\) test advisory \(high\) https:\/\/github\.com\/advisories\/GHSA-test-test-test/,
  );

  const moderate = await audit((b) => ({ status: 200, body: b.fastify ? { fastify: [advisory('moderate')] } : {} }));
  assert.equal(moderate.code, 0, moderate.out);
  assert.match(moderate.out, /audit: note fastify .*: moderate/);

  const clean = await audit(() => ({ status: 200, body: {} }));
  assert.equal(clean.code, 0, clean.out);
  assert.match(clean.out, /advisories: 0 critical, 0 high, 0 moderate, 0 low, 0 info/);
});

test('X6: a registry without the audit endpoint (405) is "not checked", never a pass, unless declared optional', async () => {
  const refused = await audit(() => ({ status: 405, body: '' }));
  assert.equal(refused.code, 3, refused.out);
  assert.match(refused.out, /NOT CHECKED/);
  const optional = await audit(() => ({ status: 405, body: '' }), { STIXGATE_AUDIT_OPTIONAL: '1' });
  assert.equal(optional.code, 0, optional.out);
  assert.match(optional.out, /NOT CHECKED \(STIXGATE_AUDIT_OPTIONAL=1/);
});
