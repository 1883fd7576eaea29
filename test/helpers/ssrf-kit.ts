import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpPolicy } from '../../src/http/types.js';

/** The SSRF tests' client policy: private destinations denied, plain http allowed, one attempt, short deadlines. */
export function policy(over: Partial<HttpPolicy> = {}): HttpPolicy {
  return {
    headersTimeoutMs: 2000,
    bodyTimeoutMs: 2000,
    totalTimeoutMs: 5000,
    maxBytes: 1 << 20,
    maxRedirects: 3,
    allowPrivate: false,
    allowInsecure: true,
    verifyTls: true,
    retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1000 },
    ...over,
  };
}

/** A loopback server that counts the connections reaching it (a denied destination must see 0). */
export async function canary(): Promise<{ server: Server; port: number; count: () => number }> {
  let n = 0;
  const server = createServer((_req, res) => res.end('canary'));
  server.on('connection', () => n++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, count: () => n };
}
