import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type ServerOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createHttpClient } from '../../src/http/client.js';
import type { HttpPolicy } from '../../src/http/types.js';
import { StixgateError } from '../../src/core/errors.js';
import { hasOpenssl, makeCert, makeExpiredCert } from '../helpers/tls-certs.js';

function policy(over: Partial<HttpPolicy> = {}): HttpPolicy {
  return {
    headersTimeoutMs: 5000,
    bodyTimeoutMs: 5000,
    totalTimeoutMs: 10_000,
    maxBytes: 1 << 20,
    maxRedirects: 0,
    allowPrivate: true,
    allowInsecure: false,
    verifyTls: true,
    retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20, maxRetryAfterMs: 1000 },
    ...over,
  };
}

/** Serves HTTPS on loopback, counting the requests that reach the handler. */
async function serve(options: ServerOptions): Promise<{ url: string; requests: () => number; close: () => void }> {
  let n = 0;
  const server = createServer(options, (_req, res) => {
    n++;
    res.end('198.51.100.1\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/list.txt`,
    requests: () => n,
    close: () => server.close(),
  };
}

async function tlsFailure(caFile: string, url: string): Promise<StixgateError> {
  const client = createHttpClient(policy({ caFile }), { component: 'tls_feed' });
  try {
    const e = await client.request({ url }).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(e instanceof StixgateError, String(e));
    return e;
  } finally {
    await client.close();
  }
}

/** FAULTS N3, the parts test/http/http-tls.test.ts does not cover: expiry and protocol versions. */
test('N3: an expired certificate from a trusted CA and a server offering only TLS 1.0/1.1 are hard tls failures naming the feed, never retried', {
  skip: hasOpenssl ? false : 'openssl not installed',
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-n3-'));
  const expired = makeExpiredCert(dir, 'IP:127.0.0.1');
  const good = makeCert(dir, 'loopback', 'IP:127.0.0.1');
  const old = await serve({ key: readFileSync(expired.key), cert: readFileSync(expired.cert) });
  // TLS 1.0 and 1.1 need security level 0 in OpenSSL 3 even to be offered
  const weak = await serve({
    key: readFileSync(good.key),
    cert: readFileSync(good.cert),
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.1',
    ciphers: 'DEFAULT:@SECLEVEL=0',
  });
  try {
    const e1 = await tlsFailure(expired.ca, old.url);
    assert.equal(e1.reason, 'tls');
    assert.equal(e1.retryable, false);
    assert.match(
      e1.message,
      /^tls_feed: GET https:\/\/127\.0\.0\.1:\d+\/list\.txt: TLS refused: CERT_HAS_EXPIRED \(tls\)$/,
    );
    assert.equal(old.requests(), 0);

    const e2 = await tlsFailure(good.cert, weak.url);
    assert.equal(e2.reason, 'tls');
    assert.equal(e2.retryable, false);
    assert.match(
      e2.message,
      /^tls_feed: GET https:\/\/127\.0\.0\.1:\d+\/list\.txt: TLS refused: ERR_SSL_[A-Z0-9_]*(PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL) \(tls\)$/,
    );
    assert.equal(weak.requests(), 0);
  } finally {
    old.close();
    weak.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
