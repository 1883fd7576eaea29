import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import { StixgateError } from '../../src/core/errors.js';
import { cursorName } from '../../src/pipeline/runner.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { componentPages, runComponent, settled, sourceComponent } from '../helpers/source-harness.js';

/** FAULTS F2, F5, N4: a document whose transfer fails commits nothing of it, cursor included. */

const NOW = Date.parse('2026-03-01T12:00:00Z');

/** `n` distinct public IPv4 lines. */
function lines(from: number, n: number): string {
  let out = '';
  for (let i = from; i < from + n; i++) out += `45.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`;
  return out;
}

type Route = (res: ServerResponse, sock: Socket) => void;

async function feedServer(route: Route) {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => route(res, req.socket));
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/list.txt`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function runAgainst(url: string, extra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-atomic-'));
  const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
  const comp = sourceComponent('feed', {
    type: 'text_list',
    url,
    allow_private: true,
    allow_insecure: true,
    retry: { max_attempts: 1 },
    ...extra,
  });
  const { value: sum, error } = await settled(runComponent(comp, store, NOW, { allowRed: true, batchSize: 500 }));
  const outcome = { sum, error };
  const stored = (await store.query({ type: 'indicator', limit: 10 })).objects.length;
  const cursor = await store.getCursor(cursorName('feed'));
  await comp.http.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { ...outcome, stored, cursor };
}

function assertNothingCommitted(r: Awaited<ReturnType<typeof runAgainst>>, reason: string): void {
  assert.ok(r.error instanceof StixgateError, `expected an error, got ${String(r.error ?? 'success')}`);
  assert.equal(r.error.reason, reason, r.error.message);
  assert.match(r.error.message, /^feed: /);
  assert.equal(r.stored, 0, 'no object of the failed document is stored');
  assert.equal(r.cursor, undefined, 'the cursor did not move');
}

test('F2: 12,000 lines (over two pages) then a reset (chunked, no terminator): nothing stored, cursor unchanged', async () => {
  const s = await feedServer((res, sock) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write(lines(0, 12_000), () => setImmediate(() => sock.destroy()));
  });
  try {
    assertNothingCommitted(await runAgainst(s.url), 'reset');
  } finally {
    await s.close();
  }
});

test('F2: Content-Length larger than the body sent: nothing stored', async () => {
  const body = lines(0, 12_000);
  const s = await feedServer((res, sock) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length * 2) });
    res.write(body, () => setImmediate(() => sock.destroy()));
  });
  try {
    assertNothingCommitted(await runAgainst(s.url), 'reset');
  } finally {
    await s.close();
  }
});

test('F5: an endless body is cut at max_feed_bytes: nothing stored, cursor unchanged', async () => {
  let written = 0;
  const s = await feedServer((res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    const more = (): void => {
      while (!res.destroyed) {
        written++;
        if (!res.write(lines(written * 100, 100))) {
          res.once('drain', more);
          return;
        }
      }
    };
    more();
  });
  try {
    assertNothingCommitted(await runAgainst(s.url, { max_feed_bytes: 256 * 1024 }), 'too_large');
    assert.ok(written > 100, 'the server had sent more than the cap');
  } finally {
    await s.close();
  }
});

test('N4: a body still streaming at the total deadline (fake clock): nothing of its 12,000 lines stored', async (t) => {
  let sent = false;
  const s = await feedServer((res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    // and never ends
    res.write(lines(0, 12_000), () => {
      sent = true;
    });
  });
  t.mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const pending = runAgainst(s.url, { timeout_secs: 120 });
    // let the request go out and the 12,000 lines arrive, then move the clock past the deadline
    while (!sent) await new Promise<void>((r) => setImmediate(r));
    for (let i = 0; i < 50; i++) await new Promise<void>((r) => setImmediate(r));
    t.mock.timers.tick(120_000);
    assertNothingCommitted(await pending, 'timeout_total');
  } finally {
    t.mock.timers.reset();
    await s.close();
  }
});

test('a complete document commits its objects and cursor together', async () => {
  const s = await feedServer((res) => {
    res.writeHead(200, { 'content-type': 'text/plain', etag: '"v1"' });
    res.end(lines(0, 12_000));
  });
  try {
    const r = await runAgainst(s.url);
    assert.equal(r.error, undefined);
    assert.equal(r.sum?.created, 12_000);
    assert.equal(r.stored, 10);
    assert.match(r.cursor ?? '', /"etag":"\\"v1\\""/);
  } finally {
    await s.close();
  }
});

test('the download ends before the first page is mapped (the connection is released at network speed)', async () => {
  const events: string[] = [];
  const s = await feedServer((res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(lines(0, 1_200_000), () => events.push('server: response sent')); // ~16 MB: more than socket buffers hold
    res.on('close', () => events.push('server: closed'));
  });
  try {
    const comp = sourceComponent('feed', { type: 'text_list', url: s.url, allow_private: true, allow_insecure: true });
    for await (const page of componentPages(comp, NOW, { full: true })) {
      events.push(`page of ${page.items.length}`);
      if (events.length > 3) break;
      // a slow store: the next page is asked for only after a pause; the transfer is already over
      await new Promise<void>((r) => setImmediate(r));
    }
    await comp.http.close();
    assert.equal(events.indexOf('server: response sent'), 0, events.join(', '));
    assert.ok(events.filter((e) => e.startsWith('page')).length >= 1);
  } finally {
    await s.close();
  }
});
