/**
 * The lean path for firewall lists (src/server/edl-lean.ts, ADR 0015) answers byte for byte as
 * the fastify route does, consumes nothing of what it hands on (rate-limit tokens), and leaves
 * every refusal and unusual request to fastify.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Client } from 'undici';
import { hashApiKey } from '../../src/server/index.js';
import { leanPathOf } from '../../src/server/edl-lean.js';
import { T0, indicator } from '../lookup/fixtures.js';
import { KEYS } from './helpers.js';
import { EDL, EDL_CLEAR, basic, edlServer, edlStore, type EdlStore } from './edl-rig.js';
import { must } from '../helpers/must.js';

async function listening(t: TestContext, app: FastifyInstance): Promise<number> {
  t.after(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as { port: number }).port;
}

/** The raw bytes of one answer to `head` (a request head without its final blank line), Date header masked. */
function raw(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = connect(port, '127.0.0.1', () => s.write(`${head}\r\nConnection: close\r\n\r\n`));
    s.on('data', (c) => chunks.push(c));
    s.on('end', () =>
      resolve(
        Buffer.concat(chunks)
          .toString('latin1')
          .replace(/\r\nDate: [^\r]*/i, '\r\nDate: <masked>'),
      ),
    );
    s.on('error', reject);
  });
}

const auth = (key: string) => `Authorization: Bearer ${key}`;
const basicLine = (user: string, key: string) => `Authorization: ${basic(user, key).authorization}`;

/** Two servers over the same lists and clock: one with the lean path, one fastify only. */
async function pair(t: TestContext, s: EdlStore) {
  const lean = await edlServer(s);
  const plain = await edlServer(s, { lean: false });
  assert.equal(leanPathOf(plain), undefined);
  return {
    leanPort: await listening(t, lean),
    plainPort: await listening(t, plain),
    path: must(leanPathOf(lean), 'leanPathOf(lean)'),
  };
}

test('the lean path and the fastify route give byte-identical answers, and the lean path answers only the 200s and 304s', async (t) => {
  const s = await edlStore();
  await s.lists.build();
  const { leanPort, plainPort, path } = await pair(t, s);
  const first = await raw(plainPort, `GET /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL)}`);
  const etag = must(/\r\netag: ([^\r]*)/i.exec(first), '/\\r\\netag: ([^\\r]*)/i.exec(first)')[1];
  const lm = must(/\r\nlast-modified: ([^\r]*)/i.exec(first), '/\\r\\nlast-modified: ([^\\r]*)/i.exec(first)')[1];
  const cases: [string, number, boolean][] = [
    // [request head, status, answered by the lean path]
    [`GET /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL)}`, 200, true],
    [`HEAD /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL)}`, 200, true],
    [`GET /edl/pan/url HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${EDL}`, 200, true],
    [`GET /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${basicLine('firewall', EDL)}`, 200, true],
    [`GET /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL)}\r\nIf-None-Match: ${etag}`, 304, true],
    [`HEAD /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL)}\r\nIf-None-Match: ${etag}`, 304, true],
    [`GET /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL)}\r\nIf-Modified-Since: ${lm}`, 304, true],
    [`GET /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL)}\r\nIf-None-Match: "other"`, 200, true],
    [`GET /edl/open/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL_CLEAR)}`, 200, true],
    // refusals and unusual requests: fastify answers, the same bytes
    [`GET /edl/pan/ip HTTP/1.1\r\nHost: x`, 401, false],
    [`GET /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${auth('k-wrong-0000000000000000')}`, 401, false],
    [`GET /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${basicLine('clear_fw', EDL)}`, 401, false],
    [`GET /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${auth(KEYS.reader)}`, 403, false],
    [`GET /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL_CLEAR)}`, 403, false],
    [`GET /edl/nolist/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL)}`, 404, false],
    [`GET /edl/open/url HTTP/1.1\r\nHost: x\r\n${auth(EDL)}`, 404, false],
    [`GET /edl/pan/email HTTP/1.1\r\nHost: x\r\n${auth(EDL)}`, 400, false],
    [`GET /edl/pan/ip?x=1 HTTP/1.1\r\nHost: x\r\n${auth(EDL)}`, 200, false],
    [`GET /edl/p%61n/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL)}`, 200, false],
    [`POST /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL)}\r\nContent-Length: 0`, 405, false],
  ];
  for (const [head, status, byLean] of cases) {
    const before = path.answered;
    const fast = await raw(leanPort, head);
    const slow = await raw(plainPort, head);
    const what = `${head.split('\r\n')[0]} ${head.split('\r\n').slice(2).join(' | ')}`;
    assert.equal(fast, slow, what);
    assert.equal(Number(must(/^HTTP\/1\.1 (\d+)/.exec(fast), '/^HTTP\\/1\\.1 (\\d+)/.exec(fast)')[1]), status, what);
    assert.equal(path.answered - before, byLean ? 1 : 0, `answered by the lean path: ${what}`);
  }
});

test('a change reaches the lean path: the old ETag gets the new body, with the same bytes as the fastify route', async (t) => {
  const s = await edlStore();
  await s.lists.build();
  const { leanPort, plainPort, path } = await pair(t, s);
  const first = await raw(leanPort, `GET /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL)}`);
  const etag = must(/\r\netag: ([^\r]*)/i.exec(first), '/\\r\\netag: ([^\\r]*)/i.exec(first)')[1];
  s.store.push(indicator({ n: 5, pattern: "[ipv4-addr:value = '198.51.100.9']", tlp: 'clear', score: 50 }));
  s.setNow(T0 + 60_000);
  await s.lists.tick();
  const head = `GET /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL)}\r\nIf-None-Match: ${etag}`;
  const fast = await raw(leanPort, head);
  assert.equal(fast, await raw(plainPort, head));
  assert.match(fast, /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(fast.endsWith('\r\n\r\n198.51.100.7\n203.0.113.0/24\n198.51.100.9\n'));
  assert.ok(fast.includes(`last-modified: ${new Date(T0 + 60_000).toUTCString()}\r\n`));
  assert.equal(path.answered, 2);
});

test('rate limits: the lean path takes the address and key tokens together; refused, it takes neither and fastify answers 429', async (t) => {
  const s = await edlStore();
  await s.lists.build();
  // the server's clock is the store's (it does not move here): no bucket refills during the test
  const app = await edlServer(s, {
    server: {
      rate_limit: {
        enabled: true,
        per_address: { requests_per_sec: 1, burst: 6 },
        per_key: { requests_per_sec: 1, burst: 2 },
      },
    },
  });
  const port = await listening(t, app);
  const path = must(leanPathOf(app), 'leanPathOf(app)');
  const status = async (key: string, list: string) =>
    must(
      must(
        /^HTTP\/1\.1 (\d+)/.exec(await raw(port, `GET /edl/${list}/ip HTTP/1.1\r\nHost: x\r\n${auth(key)}`)),
        '/^HTTP\\/1\\.1 (\\d+)/.exec(await raw(port, `GET /edl/${list...',
      )[1],
      '/^HTTP\\/1\\.1 (\\d+)/.exec(await raw(port, `GET /edl/${list...',
    );
  const firewall: string[] = [];
  for (let i = 0; i < 4; i++) firewall.push(await status(EDL, 'pan'));
  // 2 key tokens: two answers from the lean path, then fastify's 429s, each taking one address token
  assert.deepEqual(firewall, ['200', '200', '429', '429']);
  assert.equal(path.answered, 2);
  // 6 - 4 = 2 address tokens left for another key from the same address (had the lean path taken
  // an address token for the refused requests too, none would be left)
  const other: string[] = [];
  for (let i = 0; i < 3; i++) other.push(await status(EDL_CLEAR, 'open'));
  assert.deepEqual(other, ['200', '200', '429']);
  assert.equal(path.answered, 4);
});

test('until the first build is in place a list answers 503 with Retry-After on both paths; a list the key may not read stays 403', async (t) => {
  const s = await edlStore();
  const { leanPort, plainPort, path } = await pair(t, s);
  for (const head of [
    `GET /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL)}`,
    `GET /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL_CLEAR)}`,
    `GET /edl/nolist/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL)}`,
  ]) {
    assert.equal(await raw(leanPort, head), await raw(plainPort, head));
  }
  const building = await raw(leanPort, `GET /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL)}`);
  assert.match(building, /^HTTP\/1\.1 503 /);
  assert.ok(building.includes('\r\nretry-after: 5\r\n'));
  assert.ok(
    building.endsWith(
      '{"error":{"code":"STIXGATE_ERR_API_UNAVAILABLE","message":"the firewall lists are being built; retry after 5 s"}}',
    ),
  );
  assert.match(await raw(leanPort, `GET /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL_CLEAR)}`), /^HTTP\/1\.1 403 /);
  assert.equal(path.answered, 0);
  await s.lists.build();
  assert.match(await raw(leanPort, `GET /edl/pan/ip HTTP/1.1\r\nHost: x\r\n${auth(EDL)}`), /^HTTP\/1\.1 200 /);
  assert.equal(path.answered, 1);
});

test('a key identified on a keep-alive connection is checked again for expiry on each request; other credentials on it are identified afresh', async (t) => {
  const s = await edlStore();
  await s.lists.build();
  const app = await edlServer(s, {
    server: {
      api_keys: {
        firewall: {
          hash: hashApiKey(EDL),
          scopes: ['edl'],
          max_tlp: 'green',
          expires: new Date(T0 + 60_000).toISOString(),
        },
        clear_fw: { hash: hashApiKey(EDL_CLEAR), scopes: ['edl'], max_tlp: 'clear' },
      },
    },
  });
  const port = await listening(t, app);
  const path = must(leanPathOf(app), 'leanPathOf(app)');
  // one connection for every request
  const client = new Client(`http://127.0.0.1:${port}`, { pipelining: 1 });
  t.after(() => client.close());
  const get = async (headers: Record<string, string>, url = '/edl/pan/ip') => {
    const r = await client.request({ path: url, method: 'GET', headers });
    await r.body.text();
    return r.statusCode;
  };
  assert.equal(await get({ authorization: `Bearer ${EDL}` }), 200);
  assert.equal(await get({ authorization: 'Bearer k-wrong-0000000000000000' }), 401);
  assert.equal(await get({ 'x-api-key': EDL }), 200, 'the same key in another header');
  assert.equal(await get({ authorization: `Bearer ${EDL_CLEAR}` }, '/edl/open/ip'), 200);
  assert.equal(await get({ authorization: `Bearer ${EDL_CLEAR}` }), 403, 'the second key on the connection is its own');
  assert.equal(await get({ authorization: `Bearer ${EDL}` }), 200);
  assert.equal(path.answered, 4);
  s.setNow(T0 + 60_000);
  const expired = await client.request({
    path: '/edl/pan/ip',
    method: 'GET',
    headers: { authorization: `Bearer ${EDL}` },
  });
  assert.equal(expired.statusCode, 401, 'expiry is checked on every request');
  assert.deepEqual(await expired.body.json(), {
    error: { code: 'STIXGATE_ERR_API_UNAUTHORIZED', message: 'missing or invalid API key' },
  });
  assert.equal(path.answered, 4);
});
