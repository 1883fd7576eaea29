import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createHttpClient } from '../../src/http/client.js';
import type { HttpPolicy } from '../../src/pipeline/types.js';
import { StixgateError } from '../../src/core/errors.js';

/** FAULTS N3: TLS problems are hard failures naming the feed; there is no insecure fallback. */
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

function makeCert(dir: string, name: string, san: string): { key: string; cert: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, '-addext', `subjectAltName=${san}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { key, cert };
}

function policy(over: Partial<HttpPolicy> = {}): HttpPolicy {
  return {
    headersTimeoutMs: 2000, bodyTimeoutMs: 2000, totalTimeoutMs: 5000, maxBytes: 1 << 20, maxRedirects: 0,
    allowPrivate: true, allowInsecure: false, verifyTls: true,
    retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20, maxRetryAfterMs: 1000 }, ...over,
  };
}

test('N3: self-signed and wrong-hostname certificates fail with reason tls, not retried; a configured CA is trusted', { skip: hasOpenssl ? false : 'openssl not installed' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-tls-'));
  const good = makeCert(dir, 'loopback', 'IP:127.0.0.1');
  const wrong = makeCert(dir, 'other', 'DNS:feeds.other.example');
  let requests = 0;
  const serve = async (c: { key: string; cert: string }) => {
    const server = createServer({ key: readFileSync(c.key), cert: readFileSync(c.cert) }, (_req, res) => {
      requests++;
      res.end('198.51.100.1\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/list.txt` };
  };
  const a = await serve(good);
  const b = await serve(wrong);
  try {
    // self-signed, not trusted: a hard failure naming the component
    const plain = createHttpClient(policy(), { component: 'tls_feed' });
    const e1 = await plain.request({ url: a.url }).then(() => undefined, (e: unknown) => e);
    assert.ok(e1 instanceof StixgateError, String(e1));
    assert.equal(e1.reason, 'tls');
    assert.equal(e1.retryable, false);
    assert.match(e1.message, /tls_feed/);
    assert.equal(requests, 0, 'no request reached the handler');
    await plain.close();

    // the same server with its certificate as the configured CA: accepted
    const trusting = createHttpClient(policy({ caFile: good.cert }), { component: 'tls_feed' });
    const ok = await trusting.request({ url: a.url });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), '198.51.100.1\n');
    // a certificate for another host name fails even when its CA is trusted
    const trustingOther = createHttpClient(policy({ caFile: wrong.cert }), { component: 'tls_feed' });
    const e2 = await trustingOther.request({ url: b.url }).then(() => undefined, (e: unknown) => e);
    assert.ok(e2 instanceof StixgateError, String(e2));
    assert.equal(e2.reason, 'tls');
    assert.equal(requests, 1);
    await trusting.close();
    await trustingOther.close();
  } finally {
    a.server.close();
    b.server.close();
  }
});
