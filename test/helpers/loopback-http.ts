import { createHttpClient, type ClosableHttpClient } from '../../src/http/client.js';
import type { HttpPolicy } from '../../src/http/types.js';

/**
 * The outbound HTTP client of tests that talk to servers on 127.0.0.1: private and plain-HTTP
 * targets allowed, no redirects, one attempt (a test sees each failure), short timeouts. `over`
 * changes what a test needs (a larger body cap, retries, a timeout it exercises).
 */
export function loopbackHttp(component = 'loopback-test', over: Partial<HttpPolicy> = {}): ClosableHttpClient {
  return createHttpClient(
    {
      headersTimeoutMs: 5000,
      bodyTimeoutMs: 5000,
      totalTimeoutMs: 10_000,
      maxBytes: 1 << 20,
      maxRedirects: 0,
      allowPrivate: true,
      allowInsecure: true,
      verifyTls: true,
      retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10, maxRetryAfterMs: 0 },
      ...over,
    },
    { component },
  );
}
