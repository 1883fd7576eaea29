import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { buildIndex } from '../../src/lookup/index.js';
import { hashApiKey } from '../../src/server/index.js';
import { rig } from '../correlate/fixtures.js';
import { T0 } from '../lookup/fixtures.js';
import { STANDARD } from '../score/helpers.js';
import { KEYS, bearer, serverConfig, setup, panLists, quietServer } from './helpers.js';
import { adminWithoutDaemon } from '../helpers/admin-host.js';
import { STYLE_PATH } from '../../src/server/console/style.js';
import { must } from '../helpers/must.js';

const UNAUTH = { error: { code: 'STIXGATE_ERR_API_UNAUTHORIZED', message: 'missing or invalid API key' } };
const BODY = '{"values":["198.51.100.7"]}';

/** Sends raw bytes on a fresh connection; resolves with what came back and how much the server read. */
async function raw(
  app: Awaited<ReturnType<typeof setup>>['app'],
  head: string,
  bodyBytes = 0,
): Promise<{ text: string; serverRead: number }> {
  const { port } = app.server.address() as AddressInfo;
  let serverSock: Socket | undefined;
  const onConn = (s: Socket) => (serverSock = s);
  app.server.once('connection', onConn);
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    s.setEncoding('utf8');
    s.on('connect', () => {
      s.write(head);
      const pump = (): void => {
        while (sent < bodyBytes && !s.destroyed) {
          sent += chunk.length;
          if (!s.write(chunk)) {
            s.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    s.on('data', (d: string) => (text += d));
    s.on('error', () => undefined);
    s.on('close', () => resolve({ text, serverRead: serverSock?.bytesRead ?? -1 }));
  });
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
const bodyOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as unknown;

async function listening(over: Record<string, unknown> = {}) {
  const s = await setup(over);
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  return s;
}

test('FAULTS A5: an unauthenticated 1 GB POST is refused after the headers: 401, connection closed, under 1 MiB read of what the client pushed', async (t) => {
  const { app } = await listening();
  t.after(() => app.close());
  const r = await raw(
    app,
    'POST /api/v1/lookup HTTP/1.1\r\nHost: stixgate\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n',
    64 * 1024 * 1024,
  );
  assert.equal(statusOf(r.text), 401);
  assert.match(r.text, /\r\nconnection: close\r\n/i);
  assert.deepEqual(bodyOf(r.text), UNAUTH);
  assert.ok(r.serverRead < 1024 * 1024, `server read ${r.serverRead} bytes`);
});

test('FAULTS A5: an authenticated POST declaring more than body_limit_bytes is a 413 before its body is read', async (t) => {
  const { app } = await listening({ body_limit_bytes: 4096 });
  t.after(() => app.close());
  const r = await raw(
    app,
    `POST /api/v1/lookup HTTP/1.1\r\nHost: stixgate\r\nAuthorization: Bearer ${KEYS.reader}\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n`,
    32 * 1024 * 1024,
  );
  assert.equal(statusOf(r.text), 413);
  assert.deepEqual(bodyOf(r.text), {
    error: { code: 'STIXGATE_ERR_API_TOO_LARGE', message: 'request body exceeds the limit of 4096 bytes' },
  });
  assert.ok(r.serverRead < 1024 * 1024, `server read ${r.serverRead} bytes`);
});

test('431, 400 and 414 in the JSON error format, never echoing the request', async (t) => {
  const { app } = await listening({ max_header_bytes: 4096, max_url_bytes: 1024 });
  t.after(() => app.close());
  const marker = 'ECHO-CANARY-7d1f';
  const huge = await raw(
    app,
    `GET /api/v1/lookup?value=${marker} HTTP/1.1\r\nHost: stixgate\r\nX-Pad: ${marker}${'p'.repeat(8000)}\r\n\r\n`,
  );
  assert.equal(statusOf(huge.text), 431);
  assert.deepEqual(bodyOf(huge.text), {
    error: { code: 'STIXGATE_ERR_API_HEADERS_TOO_LARGE', message: 'the request headers are too large' },
  });
  const longTarget = await raw(
    app,
    `GET /api/v1/lookup?value=${marker}${'a'.repeat(6000)} HTTP/1.1\r\nHost: stixgate\r\n\r\n`,
  );
  assert.equal(statusOf(longTarget.text), 431, 'a target past max_header_bytes is a 431 from the parser');
  const broken = await raw(app, `GET /api/v1/lookup?value=${marker} HTTP/1.1\r\nHost stixgate\r\n\r\n`);
  assert.equal(statusOf(broken.text), 400);
  assert.deepEqual(bodyOf(broken.text), {
    error: { code: 'STIXGATE_ERR_API_BAD_REQUEST', message: 'malformed HTTP request' },
  });
  const uri = await app.inject({
    url: `/api/v1/lookup?value=${marker}${'a'.repeat(2000)}`,
    headers: bearer(KEYS.reader),
  });
  assert.equal(uri.statusCode, 414);
  assert.deepEqual(uri.json(), {
    error: { code: 'STIXGATE_ERR_API_URI_TOO_LONG', message: 'the request target exceeds 1024 bytes' },
  });
  const badEncoding = await app.inject({ url: `/api/v1/${marker}%zz`, headers: bearer(KEYS.reader) });
  assert.equal(badEncoding.statusCode, 400);
  assert.deepEqual(badEncoding.json(), {
    error: { code: 'STIXGATE_ERR_API_BAD_REQUEST', message: 'the request path is not validly encoded' },
  });
  for (const text of [huge.text, longTarget.text, broken.text, uri.body, badEncoding.body])
    assert.equal(text.includes(marker), false);
});

test('FAULTS A1: an expired key and a key from outside its networks get the same 401 as an unknown key', async () => {
  const { app, setNow } = await setup({
    api_keys: {
      temp: { hash: hashApiKey(KEYS.reader), scopes: ['lookup'], expires: new Date(T0 + 60_000).toISOString() },
      office: { hash: hashApiKey(KEYS.clear), scopes: ['lookup'], allowed_networks: ['192.0.2.0/24', '2001:db8::/32'] },
    },
  });
  const get = (key: string, remoteAddress = '127.0.0.1') =>
    app.inject({ url: '/api/v1/lookup?value=198.51.100.7', headers: bearer(key), remoteAddress });
  assert.equal((await get(KEYS.reader)).statusCode, 200);
  setNow(T0 + 60_000);
  const expired = await get(KEYS.reader);
  const unknown = await get('k-never-configured-000000000000');
  assert.equal(expired.statusCode, 401);
  assert.deepEqual(expired.json(), UNAUTH);
  assert.deepEqual(unknown.json(), UNAUTH);
  assert.deepEqual(expired.headers['www-authenticate'], unknown.headers['www-authenticate']);
  assert.equal((await get(KEYS.clear, '192.0.2.44')).statusCode, 200);
  assert.equal((await get(KEYS.clear, '::ffff:192.0.2.45')).statusCode, 200);
  assert.equal((await get(KEYS.clear, '2001:db8::7')).statusCode, 200);
  const outside = await get(KEYS.clear, '198.51.100.1');
  assert.equal(outside.statusCode, 401);
  assert.deepEqual(outside.json(), UNAUTH);
});

test('FAULTS A6: an unexpected property is a clear 400 naming it, not silently dropped', async () => {
  const { app } = await setup();
  const r = await app.inject({
    method: 'POST',
    url: '/api/v1/lookup',
    headers: { ...bearer(KEYS.reader), 'content-type': 'application/json' },
    payload: '{"values":["198.51.100.7"],"max_tlp":"red"}',
  });
  assert.equal(r.statusCode, 400);
  assert.equal(r.json().error.code, 'STIXGATE_ERR_API_BAD_REQUEST');
  assert.match(r.json().error.message, /must NOT have additional properties/);
  const syntax = await app.inject({
    method: 'POST',
    url: '/api/v1/lookup',
    headers: { ...bearer(KEYS.reader), 'content-type': 'application/json' },
    payload: '{"values":["SECRET-BODY-ECHO"',
  });
  assert.deepEqual(syntax.json(), {
    error: { code: 'STIXGATE_ERR_API_BAD_REQUEST', message: 'the body is not valid JSON' },
  });
});

test('FAULTS A7: content-type edge cases: JSON media types (any case, tab, parameters) parse as UTF-8; anything else, other charsets included, is a 415', async () => {
  const { app } = await setup();
  const post = (ct: string | undefined) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/lookup',
      headers: { ...bearer(KEYS.reader), ...(ct === undefined ? {} : { 'content-type': ct }) },
      payload: BODY,
    });
  for (const ct of [
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'Application/Json; Charset=UTF-8',
    'application/json\t',
    'application/json ;charset=utf-8',
    'application/json;',
  ]) {
    const r = await post(ct);
    assert.equal(r.statusCode, 200, JSON.stringify(ct));
    assert.equal(r.json().results[0].matched, true, JSON.stringify(ct));
  }
  for (const ct of [
    'application/jsonx',
    'application/json garbage',
    'application/json, text/plain',
    'application/json-patch+json',
    'application/json; charset=utf-16',
    'application/json; charset="latin1"',
    'text/plain',
    'text/json',
    'multipart/form-data; boundary=x',
    'application/x-www-form-urlencoded',
    '',
    undefined,
  ]) {
    const r = await post(ct);
    assert.equal(r.statusCode, 415, JSON.stringify(ct));
    assert.equal(r.json().error.code, 'STIXGATE_ERR_API_UNSUPPORTED_MEDIA_TYPE', JSON.stringify(ct));
  }
});

test('FAULTS A12: path tricks never reach another route, and CR/LF in values reach neither headers nor log lines', async (t) => {
  const { app, lines } = await listening();
  t.after(() => app.close());
  // sent raw: an HTTP client (and inject) would resolve dot segments before sending
  for (const path of [
    '/api/v1/lookup/..%2f..%2fmetrics',
    '/api/v1/%2e%2e/%2e%2e/metrics',
    '/api/v1/lookup%2f..%2f..%2fhealthz',
    '/api/v1/../../metrics',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/api/v1/%252e%252e/metrics',
    '/api/v1/lookup/%2e%2e',
  ]) {
    const r = await raw(
      app,
      `GET ${path} HTTP/1.1\r\nHost: stixgate\r\nAuthorization: Bearer ${KEYS.metrics}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(statusOf(r.text), 404, path);
    assert.deepEqual(bodyOf(r.text), { error: { code: 'STIXGATE_ERR_API_NOT_FOUND', message: 'not found' } });
    assert.equal(r.text.includes('stixgate_'), false);
  }
  const crlf = await app.inject({
    url: '/api/v1/lookup?value=evil.example%0d%0aSet-Cookie:%20a=1%0d%0a',
    headers: bearer(KEYS.reader),
  });
  assert.equal(crlf.statusCode, 200);
  assert.equal(crlf.headers['set-cookie'], undefined);
  // a raw CR inside a header value is refused by the parser, in our format
  const injected = await raw(
    app,
    `GET /api/v1/lookup?value=x HTTP/1.1\r\nHost: stixgate\r\nX-Api-Key: ${KEYS.reader}\rSet-Cookie: a=1\r\n\r\n`,
  );
  assert.equal(statusOf(injected.text), 400);
  assert.equal(/set-cookie/i.test(injected.text), false);
  assert.ok(lines.length > 0);
  for (const l of lines) {
    assert.equal(/[\r\n]./.test(l.trimEnd()), false, 'one log line per record');
    assert.equal(l.includes('Set-Cookie'), false);
  }
});

test('FAULTS A2: every route and method: no key 401, a key without the scope 403, then 405 with Allow for a method the route lacks; unknown paths 404', async (t) => {
  // the full surface: lookups, related objects (real correlator), sightings (real embedded store), health, metrics
  const r = await rig(t);
  const { index } = await buildIndex(r.store, { now: () => T0 });
  const SIGHTER = 'k-sighter-4d2c9e8b7a6f5e4d3c2b';
  const SEARCHER = 'k-searcher-5e3d0f9c8b7a6e5d4c3b';
  const FIREWALL = 'k-firewall-8b7c6d5e4f3a2b1c0d9e';
  const ADMIN = 'k-admin-6e5d4c3b2a1f0e9d8c7b';
  const INGEST = 'k-ingest-1a2b3c4d5e6f7a8b9c0d';
  // the matrix sends ~240 requests from one address on a fixed clock: more than one address bucket holds (the limits have their own tests, A9)
  const config = serverConfig({
    rate_limit: { enabled: false },
    api_keys: {
      reader: { hash: hashApiKey(KEYS.reader), scopes: ['lookup'] },
      scraper: { hash: hashApiKey(KEYS.metrics), scopes: ['metrics'] },
      sighter: { hash: hashApiKey(SIGHTER), scopes: ['sightings'] },
      searcher: { hash: hashApiKey(SEARCHER), scopes: ['search'] },
      firewall: { hash: hashApiKey(FIREWALL), scopes: ['edl'] },
      admin: { hash: hashApiKey(ADMIN), scopes: ['admin'] },
      ingester: { hash: hashApiKey(INGEST), scopes: ['ingest'] },
    },
  });
  const lists = await panLists(r.store, T0);
  const app = quietServer({
    config,
    index,
    store: r.store,
    now: () => T0,
    correlator: r.correlator,
    scoring: STANDARD(),
    edl: { lists, basicAuth: true },
    admin: adminWithoutDaemon({ store: r.store }),
  });
  t.after(() => app.close());
  await app.ready();
  const routes = app.printRoutes({ commonPrefix: false });
  const related = `/api/v1/objects/indicator--${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/related`;
  const matrix: { url: string; path: string; methods: string[]; key?: string; wrongKey?: string }[] = [
    {
      url: '/api/v1/lookup?value=198.51.100.7',
      path: '/api/v1/lookup',
      methods: ['GET', 'HEAD', 'POST'],
      key: KEYS.reader,
      wrongKey: SIGHTER,
    },
    {
      url: related,
      path: '/api/v1/objects/:id/related',
      methods: ['GET', 'HEAD'],
      key: KEYS.reader,
      wrongKey: KEYS.metrics,
    },
    {
      url: '/api/v1/deliveries?value=198.51.100.7',
      path: '/api/v1/deliveries',
      methods: ['GET', 'HEAD'],
      key: KEYS.reader,
      wrongKey: SIGHTER,
    },
    { url: '/api/v1/sightings', path: '/api/v1/sightings', methods: ['POST'], key: SIGHTER, wrongKey: KEYS.reader },
    {
      url: '/api/v1/objects?type=indicator',
      path: '/api/v1/objects',
      methods: ['GET', 'HEAD'],
      key: SEARCHER,
      wrongKey: KEYS.reader,
    },
    {
      url: related.replace('/related', ''),
      path: '/api/v1/objects/:id',
      methods: ['GET', 'HEAD'],
      key: SEARCHER,
      wrongKey: KEYS.reader,
    },
    { url: '/metrics', path: '/metrics', methods: ['GET', 'HEAD'], key: KEYS.metrics, wrongKey: KEYS.reader },
    { url: '/edl/pan/ip', path: '/edl/:list/:kind', methods: ['GET', 'HEAD'], key: FIREWALL, wrongKey: KEYS.reader },
    { url: '/healthz', path: '/healthz', methods: ['GET', 'HEAD'] },
    { url: '/readyz', path: '/readyz', methods: ['GET', 'HEAD'] },
    { url: '/api/openapi.json', path: '/api/openapi.json', methods: ['GET', 'HEAD'] },
    // the admin API (`admin`) and ingest (`ingest`): a key with every other scope but the route's is a 403
    ...[
      ['/api/v1/admin/sources', ['GET', 'HEAD']],
      ['/api/v1/admin/sources/:id', ['GET', 'HEAD']],
      ['/api/v1/admin/sources/:id/run', ['POST']],
      ['/api/v1/admin/sources/:id/pause', ['POST']],
      ['/api/v1/admin/sources/:id/resume', ['POST']],
      ['/api/v1/admin/sinks', ['GET', 'HEAD']],
      ['/api/v1/admin/sinks/:id', ['GET', 'HEAD']],
      ['/api/v1/admin/sinks/:id/push', ['POST']],
      ['/api/v1/admin/sinks/:id/pause', ['POST']],
      ['/api/v1/admin/sinks/:id/resume', ['POST']],
      ['/api/v1/admin/sinks/:id/plan', ['GET', 'HEAD']],
      ['/api/v1/admin/sinks/:id/reconcile', ['POST']],
      ['/api/v1/admin/reload', ['POST']],
      ['/api/v1/admin/stats', ['GET', 'HEAD']],
    ].map(([path, methods]) => ({
      url: (path as string).replace(':id', 'nope'),
      path: path as string,
      methods: methods as string[],
      key: ADMIN,
      wrongKey: INGEST,
    })),
    { url: '/api/v1/ingest', path: '/api/v1/ingest', methods: ['POST'], key: INGEST, wrongKey: ADMIN },
    // the console (docs/console.md): pages need the scope of the API they show; sign-in and the stylesheet need no key
    { url: '/console/login', path: '/console/login', methods: ['GET', 'HEAD', 'POST'] },
    { url: STYLE_PATH, path: STYLE_PATH, methods: ['GET', 'HEAD'] },
    { url: '/console', path: '/console', methods: ['GET', 'HEAD'], key: ADMIN, wrongKey: KEYS.metrics },
    { url: '/console/logout', path: '/console/logout', methods: ['POST'], key: SEARCHER, wrongKey: KEYS.metrics },
    {
      url: '/console/why?value=198.51.100.7',
      path: '/console/why',
      methods: ['GET', 'HEAD'],
      key: KEYS.reader,
      wrongKey: ADMIN,
    },
    { url: '/console/search', path: '/console/search', methods: ['GET', 'HEAD'], key: SEARCHER, wrongKey: ADMIN },
    {
      url: related.replace('/api/v1', '/console').replace('/related', ''),
      path: '/console/objects/:id',
      methods: ['GET', 'HEAD'],
      key: SEARCHER,
      wrongKey: ADMIN,
    },
    ...[
      ['/console/sources', ['GET', 'HEAD']],
      ['/console/sources/:id/run', ['POST']],
      ['/console/sources/:id/pause', ['POST']],
      ['/console/sources/:id/resume', ['POST']],
      ['/console/sinks', ['GET', 'HEAD']],
      ['/console/sinks/:id/plan', ['GET', 'HEAD', 'POST']],
      ['/console/sinks/:id/reconcile', ['POST']],
      ['/console/sinks/:id/push', ['POST']],
      ['/console/sinks/:id/pause', ['POST']],
      ['/console/sinks/:id/resume', ['POST']],
    ].map(([path, methods]) => ({
      url: (path as string).replace(':id', 'nope'),
      path: path as string,
      methods: methods as string[],
      key: ADMIN,
      wrongKey: SEARCHER,
    })),
  ];
  // the matrix covers every path this server registers
  // printRoutes nests a path under its prefix ("│   └── /:id"): a line's depth is its indent / 4
  const stack: string[] = [];
  const listed: string[] = [];
  for (const l of routes.split('\n')) {
    const m = /^(.*?)(?:├── |└── )(\/\S*)/.exec(l);
    if (!m) continue;
    const depth = must(m[1], 'm[1]').length / 4;
    stack.length = depth;
    stack.push(must(m[2], 'm[2]'));
    listed.push(stack.join(''));
  }
  assert.deepEqual([...new Set(listed)].sort(), matrix.map((m) => m.path).sort(), routes);
  let checked = 0;
  for (const row of matrix) {
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const) {
      const call = (headers: Record<string, string>) =>
        app.inject({
          method,
          url: row.url,
          headers: { ...headers, 'content-type': 'text/plain' },
          payload: method === 'GET' || method === 'HEAD' ? undefined : 'not json',
        });
      if (row.key) {
        assert.equal((await call({})).statusCode, 401, `${method} ${row.path} without a key`);
        assert.equal(
          (await call(bearer('k-unknown-key-000000000000'))).statusCode,
          401,
          `${method} ${row.path} unknown key`,
        );
        assert.equal(
          (await call(bearer(must(row.wrongKey, 'row.wrongKey')))).statusCode,
          403,
          `${method} ${row.path} without the scope`,
        );
        checked += 3;
      }
      const right = await call(row.key ? bearer(row.key) : {});
      // 200, an unknown id (404), a body that is not JSON or a form (415), the ingest's missing `type` (400), the console home's redirect (303)
      if (row.methods.includes(method))
        assert.ok(
          [
            200,
            404,
            415,
            ...(row.path === '/api/v1/ingest' ? [400] : []),
            ...(row.path === '/console' ? [303] : []),
          ].includes(right.statusCode),
          `${method} ${row.path}: ${right.statusCode}`,
        );
      else {
        assert.equal(right.statusCode, 405, `${method} ${row.path}`);
        assert.equal(right.headers.allow, row.methods.join(', '));
        if (method !== 'HEAD')
          assert.deepEqual(right.json(), {
            error: {
              code: 'STIXGATE_ERR_API_METHOD_NOT_ALLOWED',
              message: `this route answers ${row.methods.join(', ')}`,
            },
          });
      }
      checked++;
    }
  }
  assert.equal(checked, 38 * 7 * 4 + 5 * 7);
  for (const method of ['GET', 'POST', 'PUT', 'DELETE'] as const) {
    assert.equal(
      (await app.inject({ method, url: '/api/v1/admin/no-such-thing', headers: bearer(ADMIN) })).statusCode,
      404,
      method,
    );
  }
  // a path parameter over the router's 256 characters is a 414, without echo
  const long = await app.inject({
    url: `/api/v1/objects/indicator--${'e'.repeat(300)}/related`,
    headers: bearer(KEYS.reader),
  });
  assert.equal(long.statusCode, 414);
  assert.deepEqual(long.json(), {
    error: { code: 'STIXGATE_ERR_API_URI_TOO_LONG', message: 'a path parameter is too long' },
  });
});
