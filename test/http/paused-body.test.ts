import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { StixgateError } from '../../src/core/errors.js';
import { loopbackHttp } from '../helpers/loopback-http.js';

/**
 * The undici 7 crash (nodejs/undici#5360): a peer closing the connection while its reader had
 * paused the body (backpressure from slow store writes) raised an error nothing listened to and
 * ended the process. Here the reader stops after the first chunk, the peer closes mid-body, and
 * the reader resumes only once the close has happened: the read must fail with reason `reset`.
 */
test('the peer closes while the reader has paused the body: a reset error, no crash', async () => {
  let closed!: () => void;
  const peerClosed = new Promise<void>((r) => (closed = r));
  const server = createServer((sock: Socket) => {
    sock.on('error', () => undefined);
    sock.on('close', () => closed());
    sock.once('data', () => {
      sock.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${64 << 20}\r\n\r\n`);
      // 8 MiB queued at once (more than the socket buffers take while the reader is paused),
      // then the connection is dropped with that data still unsent
      sock.write(Buffer.alloc(8 << 20, 0x41));
      setImmediate(() => setImmediate(() => sock.destroy()));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/big`;
  const c = loopbackHttp('paused_feed', {
    totalTimeoutMs: 30_000,
    maxBytes: 128 << 20,
    retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 0 },
  });
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown): void => void uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  try {
    const res = await c.request({ url });
    const it = res.body[Symbol.asyncIterator]();
    assert.equal((await it.next()).done, false);
    // the reader is paused here while the peer closes mid-body
    await peerClosed;
    let error: unknown;
    try {
      for (let r = await it.next(); !r.done; r = await it.next()) {
        /* drain what arrived before the close */
      }
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof StixgateError, String(error));
    assert.equal(error.reason, 'reset');
    assert.match(error.message, /^paused_feed: GET http:\/\/127\.0\.0\.1:\d+\/big: /);
    assert.deepEqual(uncaught, []);
  } finally {
    process.off('uncaughtException', onUncaught);
    await c.close();
    server.close();
  }
});
