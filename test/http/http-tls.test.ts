import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createHttpClient } from '../../src/http/client.js';
import type { HttpPolicy } from '../../src/http/types.js';
import { StixgateError } from '../../src/core/errors.js';
import { hasOpenssl, makeCert } from '../helpers/tls-certs.js';

/** FAULTS N3: TLS problems are hard failures naming the feed; there is no insecure fallback. */

function policy(over: Partial<HttpPolicy> = {}): HttpPolicy {
  return {
    headersTimeoutMs: 2000,
    bodyTimeoutMs: 2000,
    totalTimeoutMs: 5000,
    maxBytes: 1 << 20,
    maxRedirects: 0,
    allowPrivate: true,
    allowInsecure: false,
    verifyTls: true,
    retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20, maxRetryAfterMs: 1000 },
    ...over,
  };
}

test('N3: self-signed and wrong-hostname certificates fail with reason tls, not retried; a configured CA is trusted', {
  skip: hasOpenssl ? false : 'openssl not installed',
}, async () => {
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
    const e1 = await plain.request({ url: a.url }).then(
      () => undefined,
      (e: unknown) => e,
    );
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
    const e2 = await trustingOther.request({ url: b.url }).then(
      () => undefined,
      (e: unknown) => e,
    );
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

test('mutual TLS: cert_file/key_file are presented; without them the server refuses; an unreadable key is a config error', {
  skip: hasOpenssl ? false : 'openssl not installed',
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-mtls-'));
  const server = makeCert(dir, 'loopback', 'IP:127.0.0.1');
  const client = makeCert(dir, 'stixgate-client', 'DNS:client.example');
  const subjects: string[] = [];
  const s = createServer(
    {
      key: readFileSync(server.key),
      cert: readFileSync(server.cert),
      ca: readFileSync(client.cert),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      subjects.push(String((req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN));
      res.end('ok');
    },
  );
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(s.address() as AddressInfo).port}/x`;
  try {
    const withCert = createHttpClient(policy({ caFile: server.cert, certFile: client.cert, keyFile: client.key }), {
      component: 'mtls_feed',
    });
    assert.equal(await (await withCert.request({ url })).text(), 'ok');
    await withCert.close();
    assert.deepEqual(subjects, ['stixgate-client']);
    const without = createHttpClient(
      policy({ caFile: server.cert, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 0 } }),
      { component: 'mtls_feed' },
    );
    const e = await without.request({ url }).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(e instanceof StixgateError, String(e));
    assert.match(e.message, /^mtls_feed: GET https:\/\/127\.0\.0\.1:\d+\/x: /);
    assert.deepEqual(subjects, ['stixgate-client']);
    await without.close();
    assert.throws(
      () =>
        createHttpClient(policy({ certFile: client.cert, keyFile: join(dir, 'missing.key') }), {
          component: 'mtls_feed',
        }),
      (err: StixgateError) => err.code === 'STIXGATE_ERR_CONFIG_INVALID' && err.reason === 'key_file',
    );
  } finally {
    s.close();
  }
});
