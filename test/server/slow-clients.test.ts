import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { KEYS, setup } from './helpers.js';

interface Outcome {
  status: number | undefined;
  body: string;
  closedAfterMs: number;
}

/**
 * A client that never finishes its request: sends `head`, then one more byte sequence every
 * `dripMs` (each resets the socket's idle timer, so only the header/request deadlines can end it).
 */
function slowClient(port: number, head: string, drip: string, dripMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s: Socket = connect(port, '127.0.0.1');
    let got = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(head));
    const iv = setInterval(() => {
      if (s.writable) s.write(drip);
    }, dripMs);
    s.on('data', (d: string) => {
      got += d;
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearInterval(iv);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      resolve({
        status: m ? Number(m[1]) : undefined,
        body: got.slice(got.indexOf('\r\n\r\n') + 4),
        closedAfterMs: performance.now() - t0,
      });
    });
  });
}

// long enough for all 300 clients to connect while the first 100 are still held, however loaded
// the machine (at 2 s, a load average of 23 let 11 of the 200 over the cap arrive after the first
// ones were answered, so they were admitted instead of dropped)
const HEADERS_SECS = 10;
const REQUEST_SECS = 60;
const CAP = 100;

test('FAULTS A8: 300 slow-header connections on loopback: the cap admits 100, each is answered 408 at the header deadline and closed', {
  timeout: 90_000,
}, async (t) => {
  const { app } = await setup({
    headers_timeout_secs: HEADERS_SECS,
    request_timeout_secs: REQUEST_SECS,
    max_connections: CAP,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const { port } = app.server.address() as AddressInfo;
  let open = 0;
  let peak = 0;
  let dropped = 0;
  app.server.on('connection', (s: Socket) => {
    peak = Math.max(peak, ++open);
    s.on('close', () => open--);
  });
  app.server.on('drop', () => dropped++);

  const outcomes = await Promise.all(
    Array.from({ length: 300 }, () =>
      slowClient(port, 'GET /healthz HTTP/1.1\r\nHost: stixgate\r\n', 'X-Slow: 1\r\n', 250),
    ),
  );

  const answered = outcomes.filter((o) => o.status !== undefined);
  assert.equal(peak, CAP, 'never more than max_connections open at once');
  assert.equal(dropped, 300 - CAP, 'connections over the cap are closed on accept');
  assert.equal(answered.length, CAP);
  for (const o of answered) {
    assert.equal(o.status, 408);
    assert.deepEqual(JSON.parse(o.body), {
      error: { code: 'STIXGATE_ERR_API_TIMEOUT', message: 'the request was not received in time' },
    });
    // never before the configured deadline; ended by it, not by the request timeout (60 s) nor by
    // Node's 30 s deadline-check timer (which held them 30-40 s before the check interval was set)
    assert.ok(o.closedAfterMs >= HEADERS_SECS * 1000 - 50, `closed after ${o.closedAfterMs} ms`);
    assert.ok(o.closedAfterMs < (HEADERS_SECS + 15) * 1000, `closed after ${o.closedAfterMs} ms`);
  }
  // dropped connections got no bytes
  for (const o of outcomes.filter((x) => x.status === undefined)) assert.equal(o.body, '');
  assert.equal(await new Promise<number>((r) => app.server.getConnections((_e, n) => r(n))), 0);
  // and the server still answers
  const ok = await fetch(`http://127.0.0.1:${port}/api/v1/lookup?value=198.51.100.7`, {
    headers: { authorization: `Bearer ${KEYS.reader}` },
  });
  assert.equal(ok.status, 200);
});

test('FAULTS A8: a body that never finishes is answered 408 at the request deadline and closed', {
  timeout: 60_000,
}, async (t) => {
  const { app } = await setup({ headers_timeout_secs: 1, request_timeout_secs: 2 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const { port } = app.server.address() as AddressInfo;
  const head = `POST /api/v1/lookup HTTP/1.1\r\nHost: stixgate\r\nAuthorization: Bearer ${KEYS.reader}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"values":[`;
  const outcomes = await Promise.all(Array.from({ length: 20 }, () => slowClient(port, head, '"', 250)));
  for (const o of outcomes) {
    assert.equal(o.status, 408);
    assert.equal(JSON.parse(o.body).error.code, 'STIXGATE_ERR_API_TIMEOUT');
    assert.ok(o.closedAfterMs >= 2000 - 50 && o.closedAfterMs < 2000 + 15_000, `closed after ${o.closedAfterMs} ms`);
  }
});
