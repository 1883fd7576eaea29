import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { MockAgent } from 'undici';
import Bottleneck from 'bottleneck';
import { createHttpClient, warnInsecureEnvironment, type HttpClientOptions } from '../../src/http/client.js';
import { StixgateError } from '../../src/core/errors.js';
import type { HttpPolicy } from '../../src/http/types.js';
import { must } from '../helpers/must.js';

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/** A loopback server whose routes are set per test; records each request's time and headers. */
async function serve(routes: Record<string, Handler>) {
  const hits: { path: string; at: number; headers: IncomingMessage['headers'] }[] = [];
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const path = must((req.url ?? '/').split('?')[0], "(req.url ?? '/').split('?')[0]");
    hits.push({ path, at: Date.now(), headers: req.headers });
    const n = (counts.get(path) ?? 0) + 1;
    counts.set(path, n);
    const h = routes[path];
    if (!h) {
      res.statusCode = 404;
      res.end('no route');
      return;
    }
    h(req, res, n);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    hits,
    count: (p: string) => counts.get(p) ?? 0,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function policy(over: Partial<HttpPolicy> = {}, retry: Partial<HttpPolicy['retry']> = {}): HttpPolicy {
  return {
    headersTimeoutMs: 2000,
    bodyTimeoutMs: 2000,
    totalTimeoutMs: 5000,
    maxBytes: 1 << 20,
    maxRedirects: 3,
    allowPrivate: true,
    allowInsecure: true,
    verifyTls: true,
    retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000, ...retry },
    ...over,
  };
}

function recorder() {
  const sleeps: number[] = [];
  const retries: string[] = [];
  const opts: HttpClientOptions = {
    component: 'test_feed',
    sleep: async (ms) => void sleeps.push(ms),
    onRetry: (r) => void retries.push(r),
    rng: () => 0.5,
  };
  return { sleeps, retries, opts };
}

async function rejectsWith(p: Promise<unknown>, code: string, reason: string): Promise<StixgateError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof StixgateError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.reason, reason, e.message);
    return e;
  }
  assert.fail(`expected ${code}/${reason}`);
}

test('GET: headers, text with BOM stripped, json without prototype keys', async () => {
  const s = await serve({
    '/t': (_q, r) => {
      r.setHeader('content-type', 'text/plain; charset=utf-8');
      r.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('héllo\n')]));
    },
    '/j': (_q, r) => {
      r.setHeader('content-type', 'application/json');
      r.end('{"a":1,"__proto__":{"polluted":true},"b":{"constructor":{"prototype":{"x":1}},"c":2}}');
    },
  });
  const c = createHttpClient(policy(), { component: 'test_feed' });
  const t = await c.request({ url: `${s.base}/t`, headers: { 'X-Api-Key': 'k' } });
  assert.equal(t.status, 200);
  assert.equal(t.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(t.url, `${s.base}/t`);
  assert.equal(await t.text(), 'héllo\n');
  assert.equal(must(s.hits[0], 's.hits[0]').headers['accept-encoding'], 'gzip, deflate, br');
  assert.equal(must(s.hits[0], 's.hits[0]').headers['x-api-key'], 'k');
  const j = (await (await c.request({ url: `${s.base}/j` })).json()) as any;
  assert.deepEqual(JSON.parse(JSON.stringify(j)), { a: 1, b: { c: 2 } });
  assert.equal(({} as any).polluted, undefined);
  assert.equal(Object.hasOwn(j, '__proto__'), false);
  // a body is consumed once
  const again = await c.request({ url: `${s.base}/t` });
  await again.text();
  await assert.rejects(again.text(), /already consumed/);
  await c.close();
  await s.close();
});

test('429 with Retry-After seconds: no request before the deadline (real clock)', async () => {
  const s = await serve({
    '/r': (_q, r, n) => {
      if (n === 1) {
        r.statusCode = 429;
        r.setHeader('retry-after', '1');
        r.end();
      } else r.end('ok');
    },
  });
  const c = createHttpClient(policy(), { component: 'test_feed' });
  const res = await c.request({ url: `${s.base}/r` });
  assert.equal(await res.text(), 'ok');
  assert.equal(s.count('/r'), 2);
  const gap = must(s.hits[1], 's.hits[1]').at - must(s.hits[0], 's.hits[0]').at;
  assert.ok(gap >= 990 && gap < 2000, `gap ${gap}`);
  await c.close();
  await s.close();
});

test('Retry-After as delta-seconds and HTTP-date drive the sleep exactly; 503 then 200', async () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  const s = await serve({
    '/secs': (_q, r, n) => {
      if (n === 1) {
        r.statusCode = 503;
        r.setHeader('retry-after', '3');
        r.end();
      } else r.end('a');
    },
    '/date': (_q, r, n) => {
      if (n === 1) {
        r.statusCode = 429;
        r.setHeader('retry-after', 'Sun, 01 Mar 2026 12:00:04 GMT');
        r.end();
      } else r.end('b');
    },
    '/flaky': (_q, r, n) => {
      if (n <= 3) {
        r.statusCode = n === 2 ? 502 : 503;
        r.end('busy');
      } else r.end('c');
    },
  });
  const { sleeps, retries, opts } = recorder();
  const c = createHttpClient(policy(), { ...opts, now: () => now });
  assert.equal(await (await c.request({ url: `${s.base}/secs` })).text(), 'a');
  assert.equal(await (await c.request({ url: `${s.base}/date` })).text(), 'b');
  assert.deepEqual(sleeps, [3000, 4000]);
  sleeps.length = 0;
  retries.length = 0;
  assert.equal(await (await c.request({ url: `${s.base}/flaky` })).text(), 'c');
  assert.equal(s.count('/flaky'), 4);
  // full jitter with rng=0.5: 0.5 * min(1000, 100 * 2^(n-1))
  assert.deepEqual(sleeps, [50, 100, 200]);
  assert.deepEqual(retries, ['status_5xx', 'status_5xx', 'status_5xx']);
  await c.close();
  await s.close();
});

test('Retry-After beyond maxRetryAfterMs: no sleep, retryable error carrying retryAfterMs', async () => {
  const s = await serve({
    '/r': (_q, r) => {
      r.statusCode = 429;
      r.setHeader('retry-after', '120');
      r.end();
    },
  });
  const { sleeps, opts } = recorder();
  const c = createHttpClient(policy(), opts);
  const e = await rejectsWith(c.request({ url: `${s.base}/r?token=SECRET` }), 'STIXGATE_ERR_HTTP_STATUS', 'status_429');
  assert.equal(e.retryable, true);
  assert.equal(e.retryAfterMs, 120_000);
  assert.equal(e.message, `test_feed: GET ${s.base}/r?…: status 429 (status_429)`);
  assert.equal(s.count('/r'), 1);
  assert.deepEqual(sleeps, []);
  await c.close();
  await s.close();
});

test('persistent 503 gives up after maxAttempts; POST and 4xx are not retried; okStatuses', async () => {
  const s = await serve({
    '/down': (_q, r) => {
      r.statusCode = 503;
      r.end();
    },
    '/auth': (_q, r) => {
      r.statusCode = 401;
      r.setHeader('www-authenticate', 'Bearer secret-realm');
      r.end('nope');
    },
    '/gone': (_q, r) => {
      r.statusCode = 404;
      r.end('missing');
    },
  });
  const { sleeps, opts } = recorder();
  const c = createHttpClient(policy({}, { maxAttempts: 3 }), opts);
  const e = await rejectsWith(c.request({ url: `${s.base}/down` }), 'STIXGATE_ERR_HTTP_STATUS', 'status_5xx');
  assert.equal(e.retryable, true);
  assert.equal(s.count('/down'), 3);
  assert.equal(sleeps.length, 2);
  await rejectsWith(
    c.request({ url: `${s.base}/down`, method: 'POST', body: '{}' }),
    'STIXGATE_ERR_HTTP_STATUS',
    'status_5xx',
  );
  assert.equal(s.count('/down'), 4);
  await rejectsWith(
    c.request({ url: `${s.base}/down`, method: 'PUT', body: '{}', idempotent: true }),
    'STIXGATE_ERR_HTTP_STATUS',
    'status_5xx',
  );
  assert.equal(s.count('/down'), 7);
  const a = await rejectsWith(
    c.request({ url: `${s.base}/auth`, headers: { authorization: 'Bearer TOPSECRET' } }),
    'STIXGATE_ERR_HTTP_STATUS',
    'status_4xx',
  );
  assert.equal(a.retryable, false);
  assert.equal(
    a.message,
    `test_feed: GET ${s.base}/auth: status 401, check the credentials configured for this component (status_4xx)`,
  );
  assert.equal(s.count('/auth'), 1);
  const g = await c.request({ url: `${s.base}/gone`, okStatuses: [404] });
  assert.equal(g.status, 404);
  await g.dump();
  await rejectsWith(c.request({ url: `${s.base}/gone` }), 'STIXGATE_ERR_HTTP_STATUS', 'status_4xx');
  await c.close();
  await s.close();
});

test('connection refused is a retryable network error', async () => {
  const s = await serve({});
  const base = s.base;
  await s.close();
  const { opts, retries } = recorder();
  const c = createHttpClient(policy({}, { maxAttempts: 2 }), opts);
  const e = await rejectsWith(c.request({ url: `${base}/x` }), 'STIXGATE_ERR_HTTP_NETWORK', 'refused');
  assert.equal(e.retryable, true);
  assert.deepEqual(retries, ['refused']);
  await c.close();
});

test('N5: connection accepted, headers never sent → timeout_headers', async () => {
  const s = await serve({ '/hang': () => undefined });
  const c = createHttpClient(policy({ headersTimeoutMs: 300 }, { maxAttempts: 1 }), { component: 'test_feed' });
  const t0 = Date.now();
  const e = await rejectsWith(c.request({ url: `${s.base}/hang` }), 'STIXGATE_ERR_HTTP_TIMEOUT', 'timeout_headers');
  const took = Date.now() - t0;
  assert.equal(e.retryable, true);
  // the reason names the deadline that fired; only "not before it" is a time fact a loaded machine cannot break
  assert.ok(took >= 250, `took ${took}`);
  await c.close();
  await s.close();
});

test('N4: 1 byte per 100 ms drip is cut by the total deadline, not bodyTimeout', async () => {
  let timer: NodeJS.Timeout | undefined;
  const s = await serve({
    '/drip': (_q, r) => {
      r.writeHead(200, { 'content-type': 'text/plain' });
      timer = setInterval(() => r.write('x'), 100);
      r.on('close', () => clearInterval(timer));
    },
  });
  const c = createHttpClient(policy({ bodyTimeoutMs: 1000, totalTimeoutMs: 700 }), { component: 'test_feed' });
  const t0 = Date.now();
  const res = await c.request({ url: `${s.base}/drip` });
  let got = 0;
  const e = await rejectsWith(
    (async () => {
      for await (const b of res.body) got += b.length;
    })(),
    'STIXGATE_ERR_HTTP_TIMEOUT',
    'timeout_total',
  );
  const took = Date.now() - t0;
  assert.equal(e.retryable, true);
  // timeout_total (not the 1 s body timeout, which the drip keeps resetting) ended it, not before 700 ms
  assert.ok(took >= 650, `took ${took}`);
  assert.ok(got >= 1 && got <= 8, `got ${got}`);
  clearInterval(timer);
  await c.close();
  await s.close();
});

test('partial bodies (reset mid-body, chunked without terminator, short Content-Length) are retryable errors', async () => {
  const s = await serve({
    '/cl': (_q, r) => {
      r.writeHead(200, { 'content-length': '1000' });
      r.write('x'.repeat(100), () => r.socket?.destroy()); // cut once the partial body is on its way
    },
    '/chunked': (_q, r) => {
      r.writeHead(200, { 'content-type': 'text/plain' });
      r.write('partial line\n', () => r.socket?.destroy());
    },
  });
  const c = createHttpClient(policy(), { component: 'test_feed' });
  for (const p of ['/cl', '/chunked']) {
    const res = await c.request({ url: `${s.base}${p}` });
    const e = await rejectsWith(res.text(), 'STIXGATE_ERR_HTTP_NETWORK', 'reset');
    assert.equal(e.retryable, true);
  }
  await c.close();
  await s.close();
});

test('F24: content type checked against accept', async () => {
  const s = await serve({
    '/html': (_q, r) => {
      r.setHeader('content-type', 'text/html; charset=utf-8');
      r.end('<html>login</html>');
    },
    '/json': (_q, r) => {
      r.setHeader('content-type', 'application/json');
      r.end('{}');
    },
    '/taxii': (_q, r) => {
      r.setHeader('content-type', 'application/taxii+json; version=2.1');
      r.end('{}');
    },
  });
  const c = createHttpClient(policy(), { component: 'taxii_x' });
  const accept = ['application/taxii+json;version=2.1'];
  const e = await rejectsWith(
    c.request({ url: `${s.base}/html`, accept }),
    'STIXGATE_ERR_HTTP_CONTENT_TYPE',
    'content_type',
  );
  assert.equal(e.retryable, false);
  assert.equal(
    e.message,
    `taxii_x: GET ${s.base}/html: expected application/taxii+json, got text/html (an SSO login page or proxy?) (content_type)`,
  );
  await rejectsWith(c.request({ url: `${s.base}/json`, accept }), 'STIXGATE_ERR_HTTP_CONTENT_TYPE', 'content_type');
  assert.equal((await c.request({ url: `${s.base}/taxii`, accept })).status, 200);
  assert.equal(must(s.hits.at(-1), 's.hits.at(-1)').headers.accept, 'application/taxii+json;version=2.1');
  await rejectsWith(
    c.request({ url: `${s.base}/taxii`, accept: ['application/json'] }),
    'STIXGATE_ERR_HTTP_CONTENT_TYPE',
    'content_type',
  );
  assert.equal((await c.request({ url: `${s.base}/json`, accept: ['application/*'] })).status, 200);
  await c.close();
  await s.close();
});

test('redirects: same origin followed, cross-origin refused with 0 bytes at the canary, limit enforced', async () => {
  let canaryBytes = 0;
  let canaryConns = 0;
  const canary = createServer((_q, r) => r.end('canary'));
  canary.on('connection', (sock) => {
    canaryConns++;
    sock.on('data', (d) => (canaryBytes += d.length));
  });
  await new Promise<void>((r) => canary.listen(0, '127.0.0.1', r));
  const canaryBase = `http://127.0.0.1:${(canary.address() as AddressInfo).port}`;
  const s = await serve({
    '/a': (_q, r) => {
      r.writeHead(302, { location: '/b?x=1' });
      r.end();
    },
    '/b': (_q, r) => r.end('final'),
    '/post': (_q, r) => {
      r.writeHead(303, { location: '/b' });
      r.end();
    },
    '/away': (_q, r) => {
      r.writeHead(302, { location: `${canaryBase}/steal` });
      r.end();
    },
    '/away-localhost': (_q, r) => {
      r.writeHead(307, { location: `http://localhost:${new URL(canaryBase).port}/steal` });
      r.end();
    },
    '/loop': (_q, r) => {
      r.writeHead(301, { location: '/loop' });
      r.end();
    },
    '/hop': (q, r) => {
      r.writeHead(301, {
        location: `/hop?n=${Number(new URL(must(q.url, 'q.url'), 'http://x').searchParams.get('n') ?? 0) + 1}`,
      });
      r.end();
    },
  });
  const c = createHttpClient(policy(), { component: 'test_feed' });
  const res = await c.request({ url: `${s.base}/a`, headers: { authorization: 'Bearer X' } });
  assert.equal(res.url, `${s.base}/b?x=1`);
  assert.equal(await res.text(), 'final');
  assert.equal(must(s.hits.at(-1), 's.hits.at(-1)').headers.authorization, 'Bearer X');
  const p = await c.request({
    url: `${s.base}/post`,
    method: 'POST',
    body: 'payload',
    headers: { 'content-type': 'text/plain' },
  });
  assert.equal(await p.text(), 'final');
  assert.equal(must(s.hits.at(-1), 's.hits.at(-1)').headers['content-length'], undefined);
  for (const path of ['/away', '/away-localhost']) {
    const e = await rejectsWith(
      c.request({
        url: `${s.base}${path}`,
        headers: { authorization: 'Bearer SECRET', 'x-api-key': 'SECRET', cookie: 'a=SECRET', SEC: 'SECRET' },
      }),
      'STIXGATE_ERR_HTTP_REDIRECT',
      'redirect_cross_origin',
    );
    assert.equal(e.retryable, false);
    assert.ok(!e.message.includes('SECRET'));
  }
  assert.equal(canaryConns, 0);
  assert.equal(canaryBytes, 0);
  await rejectsWith(c.request({ url: `${s.base}/hop` }), 'STIXGATE_ERR_HTTP_REDIRECT', 'too_many_redirects');
  assert.equal(s.count('/hop'), 4); // the first request plus maxRedirects=3 follows
  // a Location back to a URL already visited stops at once (undici's loop check)
  const loop = await rejectsWith(
    c.request({ url: `${s.base}/loop` }),
    'STIXGATE_ERR_HTTP_REDIRECT',
    'too_many_redirects',
  );
  assert.match(loop.message, /redirect loop/);
  assert.equal(s.count('/loop'), 1);
  await c.close();
  await s.close();
  canary.close();
});

test('N9: redirects to http://, metadata, loopback, file: and data: are refused (MockAgent, https origin)', async () => {
  const mock = new MockAgent();
  mock.disableNetConnect();
  const origin = mock.get('https://feed.example');
  const targets: [string, string, string][] = [
    ['http://feed.example/b', 'STIXGATE_ERR_HTTP_REDIRECT', 'redirect_downgrade'],
    ['https://127.0.0.1/', 'STIXGATE_ERR_HTTP_REDIRECT', 'redirect_cross_origin'],
    ['https://169.254.169.254/latest/meta-data/', 'STIXGATE_ERR_HTTP_REDIRECT', 'redirect_cross_origin'],
    ['https://[::1]/', 'STIXGATE_ERR_HTTP_REDIRECT', 'redirect_cross_origin'],
    ['file:///etc/passwd', 'STIXGATE_ERR_HTTP_SSRF', 'ssrf'],
    ['data:text/plain,hi', 'STIXGATE_ERR_HTTP_SSRF', 'ssrf'],
  ];
  for (const [i, [loc]] of targets.entries())
    origin.intercept({ path: `/r${i}` }).reply(302, '', { headers: { location: loc } });
  origin.intercept({ path: '/ok' }).reply(302, '', { headers: { location: '/ok2' } });
  origin.intercept({ path: '/ok2' }).reply(200, 'fine', { headers: { 'content-type': 'text/plain' } });
  const c = createHttpClient(policy({ allowPrivate: false, allowInsecure: false }), {
    component: 'test_feed',
    dispatcher: mock,
  });
  for (const [i, [, code, reason]] of targets.entries())
    await rejectsWith(c.request({ url: `https://feed.example/r${i}` }), code, reason);
  const ok = await c.request({ url: 'https://feed.example/ok' });
  assert.equal(ok.url, 'https://feed.example/ok2');
  assert.equal(await ok.text(), 'fine');
  await mock.close();
});

test('limiter wraps each attempt; X5 environment warning; unreadable caFile', async () => {
  const s = await serve({ '/x': (_q, r) => r.end('x') });
  const limiter = new Bottleneck({ maxConcurrent: 1 });
  let scheduled = 0;
  limiter.on('queued', () => void scheduled++);
  const c = createHttpClient(policy(), { component: 'test_feed', limiter });
  await Promise.all([1, 2, 3].map(async () => (await c.request({ url: `${s.base}/x` })).text()));
  assert.equal(scheduled, 3);
  await c.close();
  await s.close();
  assert.match(warnInsecureEnvironment({ NODE_TLS_REJECT_UNAUTHORIZED: '0' }) ?? '', /NODE_TLS_REJECT_UNAUTHORIZED=0/);
  assert.equal(warnInsecureEnvironment({}), undefined);
  assert.throws(
    () => createHttpClient(policy({ caFile: '/nonexistent/ca.pem' }), { component: 'c' }),
    (e: StixgateError) => e.code === 'STIXGATE_ERR_CONFIG_INVALID' && e.reason === 'ca_file',
  );
});
