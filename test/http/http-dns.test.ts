import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHttpClient } from '../../src/http/client.js';
import type { HttpPolicy } from '../../src/http/types.js';
import { StixgateError } from '../../src/core/errors.js';

/** FAULTS N1: NXDOMAIN and SERVFAIL are retried with back-off, then fail with reason dns naming the feed. */
const policy: HttpPolicy = {
  headersTimeoutMs: 2000,
  bodyTimeoutMs: 2000,
  totalTimeoutMs: 5000,
  maxBytes: 1 << 20,
  maxRedirects: 0,
  allowPrivate: false,
  allowInsecure: false,
  verifyTls: true,
  retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20, maxRetryAfterMs: 1000 },
};

for (const code of ['ENOTFOUND', 'EAI_AGAIN']) {
  test(`N1: ${code} from DNS is retried, then reported with reason dns`, async () => {
    const lookups: string[] = [];
    const retries: string[] = [];
    const sleeps: number[] = [];
    const client = createHttpClient(policy, {
      component: 'dns_feed',
      resolver: async (host) => {
        lookups.push(host);
        const e: NodeJS.ErrnoException = new Error(`getaddrinfo ${code} ${host}`);
        e.code = code;
        throw e;
      },
      onRetry: (reason) => retries.push(reason),
      sleep: async (ms) => void sleeps.push(ms),
    });
    const err = await client.request({ url: 'https://feeds.unresolvable.example/list.txt?key=secret-in-query' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof StixgateError, String(err));
    assert.equal(err.code, 'STIXGATE_ERR_HTTP_NETWORK');
    assert.equal(err.reason, 'dns');
    assert.equal(err.retryable, true);
    assert.match(err.message, /dns_feed/);
    assert.match(err.message, /feeds\.unresolvable\.example/);
    assert.ok(!err.message.includes('secret-in-query'), err.message);
    assert.equal(lookups.length, 3, 'one lookup per attempt');
    assert.deepEqual(retries, ['dns', 'dns']);
    assert.equal(sleeps.length, 2);
    await client.close();
  });
}
