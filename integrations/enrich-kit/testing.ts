import { createHttpClient, type ClosableHttpClient } from '../../src/http/client.js';
import type { HttpPolicy } from '../../src/http/types.js';
import type { SinkRunContext } from '../../src/delivery/types.js';
import { silentLogger } from '../../src/telemetry/logger.js';

/** Test support: a run context whose HttpClient may reach the loopback simulators. */
export function testContext(
  id: string,
  now: number,
  policy: Partial<HttpPolicy> = {},
): { ctx: SinkRunContext; http: ClosableHttpClient } {
  const http = createHttpClient(
    {
      headersTimeoutMs: 5000,
      bodyTimeoutMs: 5000,
      totalTimeoutMs: 10_000,
      maxBytes: 1 << 20,
      maxRedirects: 3,
      allowPrivate: true,
      allowInsecure: true,
      verifyTls: true,
      retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 50, maxRetryAfterMs: 0 },
      ...policy,
    },
    { component: id },
  );
  return { ctx: { id, logger: silentLogger(), http, signal: new AbortController().signal, now }, http };
}
