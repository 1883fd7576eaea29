import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpClient } from '../../src/http/client.js';
import { StixgateError } from '../../src/core/errors.js';
import type { HttpPolicy } from '../../src/http/types.js';

const policy: HttpPolicy = {
  headersTimeoutMs: 2000,
  bodyTimeoutMs: 2000,
  totalTimeoutMs: 5000,
  maxBytes: 1 << 20,
  maxRedirects: 0,
  allowPrivate: true,
  allowInsecure: true,
  verifyTls: true,
  retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 },
};

test("response.json() is the engine's safe JSON parse: prototype keys dropped, deep nesting and overflowing numbers refused", async (t) => {
  const bodies: Record<string, string> = {
    '/ok': '\ufeff{"a":1,"__proto__":{"polluted":true},"b":{"constructor":{"prototype":{"x":1}},"c":2}}',
    '/deep': '['.repeat(100) + ']'.repeat(100),
    '/inf': '{"n":1e999}',
    '/bad': '{"a":',
  };
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(bodies[req.url ?? '']);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const c = createHttpClient(policy, { component: 'json_test' });
  t.after(() => c.close());
  const ok = (await (await c.request({ url: `${base}/ok` })).json()) as Record<string, unknown>;
  assert.deepEqual(JSON.parse(JSON.stringify(ok)), { a: 1, b: { c: 2 } });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  for (const [path, why] of [
    ['/deep', /nesting deeper than 64 levels/],
    ['/inf', /out of range|Infinity|overflow/i],
    ['/bad', /invalid JSON/],
  ] as const) {
    const res = await c.request({ url: `${base}${path}` });
    await assert.rejects(
      res.json(),
      (e: unknown) => {
        assert.ok(e instanceof StixgateError);
        assert.equal(e.code, 'STIXGATE_ERR_INPUT_PARSE');
        assert.equal(e.reason, 'json');
        assert.match(
          e.message,
          new RegExp(`^json_test: GET ${base.replace(/\./g, '\\.')}${path}: response is not valid JSON: `),
        );
        assert.match(e.message, why);
        return true;
      },
      path,
    );
  }
});
