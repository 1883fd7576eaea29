import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { brotliCompressSync, createGzip, deflateSync, gzipSync } from 'node:zlib';
import { createHttpClient } from '../../src/http/client.js';
import { StixgateError } from '../../src/core/errors.js';
import type { HttpPolicy } from '../../src/http/types.js';
import { must } from '../helpers/must.js';

const MiB = 1 << 20;

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const sockets = new Set<Socket>();
  const server = createServer(handler);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function policy(over: Partial<HttpPolicy> = {}): HttpPolicy {
  return {
    headersTimeoutMs: 2000,
    bodyTimeoutMs: 2000,
    totalTimeoutMs: 20_000,
    maxBytes: MiB,
    maxRedirects: 3,
    allowPrivate: true,
    allowInsecure: true,
    verifyTls: true,
    retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1000 },
    ...over,
  };
}

/** gzip of `total` zero bytes, built in 1 MiB steps so the test itself never holds the plain text. */
async function gzipBomb(total: number): Promise<Buffer> {
  const gz = createGzip({ level: 9 });
  const parts: Buffer[] = [];
  gz.on('data', (c: Buffer) => parts.push(c));
  const done = new Promise((r) => gz.on('end', r));
  const zeros = Buffer.alloc(MiB);
  for (let i = 0; i < total / MiB; i++) if (!gz.write(zeros)) await new Promise((r) => gz.once('drain', r));
  gz.end();
  await done;
  return Buffer.concat(parts);
}

async function drain(body: AsyncIterable<Buffer>): Promise<number> {
  let n = 0;
  for await (const b of body) n += b.length;
  return n;
}

test('F6: 256 MiB gzip bomb is cut at the decompressed cap with flat memory', async (t) => {
  const bomb = await gzipBomb(256 * MiB);
  assert.ok(bomb.length < 300_000, `bomb is ${bomb.length} bytes`);
  let served = 0;
  const s = await serve((_q, r) => {
    r.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' });
    r.end(bomb, () => void served++);
  });
  const c = createHttpClient(policy({ maxBytes: 8 * MiB }), { component: 'bomb_feed' });
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const res = await c.request({ url: `${s.base}/bomb` });
  let got = 0;
  let rssPeak = rss0;
  try {
    for await (const b of res.body) {
      got += b.length;
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }
    assert.fail('bomb not capped');
  } catch (e) {
    assert.ok(e instanceof StixgateError, String(e));
    assert.equal(e.code, 'STIXGATE_ERR_INPUT_TOO_LARGE');
    assert.equal(e.reason, 'too_large');
    assert.equal(e.retryable, false);
    assert.equal(e.message, `bomb_feed: GET ${s.base}/bomb: body exceeds ${8 * MiB} bytes (too_large)`);
  }
  assert.ok(got <= 8 * MiB && got >= 7 * MiB, `got ${got}`);
  const growth = rssPeak - rss0;
  t.diagnostic(`bomb ${bomb.length} B, read ${got} B before the cap, rss growth ${(growth / MiB).toFixed(1)} MiB`);
  assert.ok(growth < 100 * MiB, `rss grew ${(growth / MiB).toFixed(1)} MiB`);
  await c.close();
  await s.close();
});

test('F5: an endless chunked stream is cut at maxBytes and the connection dropped', async () => {
  let closed = false;
  let markClosed: () => void = () => undefined;
  const connectionClosed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  let written = 0;
  const s = await serve((_q, r) => {
    r.writeHead(200, { 'content-type': 'text/plain' });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const pump = (): void => {
      while (!closed && written < 1024 * MiB) {
        written += chunk.length;
        if (!r.write(chunk)) {
          r.once('drain', pump);
          return;
        }
      }
    };
    r.on('close', () => {
      closed = true;
      markClosed();
    });
    pump();
  });
  const c = createHttpClient(policy({ maxBytes: 2 * MiB }), { component: 'endless' });
  const res = await c.request({ url: `${s.base}/` });
  await assert.rejects(
    drain(res.body),
    (e: StixgateError) => e.code === 'STIXGATE_ERR_INPUT_TOO_LARGE' && e.reason === 'too_large',
  );
  // the client drops the connection (were it kept, the test would end on its timeout here)
  await connectionClosed;
  assert.equal(closed, true);
  assert.ok(written < 64 * MiB, `server wrote ${written}`);
  await c.close();
  await s.close();
});

test('Content-Encoding: gzip, x-gzip, deflate, br and two stacked decode; three are refused', async () => {
  const text = 'indicator,value\n'.repeat(1000);
  const bodies: Record<string, [string, Buffer]> = {
    '/gzip': ['gzip', gzipSync(text)],
    '/xgzip': ['x-gzip', gzipSync(text)],
    '/deflate': ['deflate', deflateSync(text)],
    '/br': ['br', brotliCompressSync(text)],
    '/two': ['gzip, br', brotliCompressSync(gzipSync(text))],
    '/identity': ['identity', Buffer.from(text)],
    '/three': ['gzip, gzip, br', brotliCompressSync(gzipSync(gzipSync(text)))],
    '/zstd': ['zstd', Buffer.from('whatever')],
    '/corrupt': ['gzip', Buffer.from('this is not gzip at all')],
  };
  const s = await serve((q, r) => {
    const [enc, body] = must(bodies[must(q.url, 'q.url')], 'bodies[q.url]');
    r.writeHead(200, { 'content-encoding': enc, 'content-type': 'text/csv' });
    r.end(body);
  });
  const c = createHttpClient(policy(), { component: 'enc' });
  for (const p of ['/gzip', '/xgzip', '/deflate', '/br', '/two', '/identity']) {
    assert.equal(await (await c.request({ url: `${s.base}${p}` })).text(), text, p);
  }
  await assert.rejects(
    c.request({ url: `${s.base}/three` }),
    (e: StixgateError) => e.code === 'STIXGATE_ERR_HTTP_CONTENT_TYPE' && e.reason === 'too_many_encodings',
  );
  await assert.rejects(
    c.request({ url: `${s.base}/zstd` }),
    (e: StixgateError) => e.code === 'STIXGATE_ERR_HTTP_CONTENT_TYPE' && e.reason === 'unsupported_encoding',
  );
  const bad = await c.request({ url: `${s.base}/corrupt` });
  await assert.rejects(
    bad.text(),
    (e: StixgateError) => e.code === 'STIXGATE_ERR_INPUT_ENCODING' && e.reason === 'decompress',
  );
  await c.close();
  await s.close();
});

test('raw byte cap applies to compressed input that inflates to little', async () => {
  // many empty gzip members: ~20 bytes each, decompressing to nothing
  const member = gzipSync(Buffer.alloc(0));
  const raw = Buffer.concat(Array.from({ length: Math.ceil((2 * MiB) / member.length) }, () => member));
  const s = await serve((_q, r) => {
    r.writeHead(200, { 'content-encoding': 'gzip' });
    r.end(raw);
  });
  const c = createHttpClient(policy({ maxBytes: MiB }), { component: 'raw' });
  const res = await c.request({ url: `${s.base}/` });
  await assert.rejects(
    res.text(),
    (e: StixgateError) => e.code === 'STIXGATE_ERR_INPUT_TOO_LARGE' && e.reason === 'too_large',
  );
  await c.close();
  await s.close();
});

test('dump() releases the response; caller abort ends a body read', async () => {
  const s = await serve((q, r) => {
    if (q.url === '/slow') {
      r.writeHead(200);
      r.write('a');
      return;
    }
    r.end('x'.repeat(1000));
  });
  const c = createHttpClient(policy(), { component: 'dump' });
  await (await c.request({ url: `${s.base}/x` })).dump();
  const ac = new AbortController();
  const res = await c.request({ url: `${s.base}/slow`, signal: ac.signal });
  // aborted once the read is under way (its first byte in hand, the rest never coming)
  let got = 0;
  const reading = (async () => {
    for await (const b of res.body) {
      got += b.length;
      ac.abort(new Error('shutdown'));
    }
  })();
  await assert.rejects(reading, (e: StixgateError) => e.code === 'STIXGATE_ERR_JOB_ABORTED' && e.reason === 'aborted');
  assert.equal(got, 1, 'the byte sent before the abort was read');
  await c.close();
  await s.close();
});
