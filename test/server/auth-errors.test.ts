import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validate } from '../../src/core/schema.js';
import { hashApiKey, serverSchema } from '../../src/server/index.js';
import { KEYS, bearer, setup } from './helpers.js';

const UNAUTH = { error: { code: 'STIXGATE_ERR_API_UNAUTHORIZED', message: 'missing or invalid API key' } };

test('hashApiKey is sha256: plus lower-case hex', () => {
  assert.equal(hashApiKey('abc'), 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('FAULTS A1: missing, unknown, malformed and conflicting keys get the same 401 body and WWW-Authenticate', async () => {
  const { app } = await setup();
  const cases: Record<string, string>[] = [
    {},
    bearer('unknown-key'),
    { authorization: 'Basic dXNlcjpwYXNz' },
    { authorization: 'Bearer' },
    { authorization: `Bearer ${'x'.repeat(600)}` },
    { 'x-api-key': '' },
    { authorization: `Bearer ${KEYS.reader}`, 'x-api-key': KEYS.red },
    bearer(KEYS.reader.toUpperCase()),
  ];
  for (const headers of cases) {
    const res = await app.inject({ method: 'GET', url: '/api/v1/lookup?value=198.51.100.7', headers });
    assert.equal(res.statusCode, 401, JSON.stringify(headers));
    assert.deepEqual(res.json(), UNAUTH);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="stixgate"');
  }
});

test('FAULTS A5: auth runs before the body is read: an unauthenticated oversized POST is a 401, not a 413', async () => {
  const { app } = await setup({ body_limit_bytes: 1024 });
  const res = await app.inject({ method: 'POST', url: '/api/v1/lookup', payload: { values: ['a'.repeat(2000)] } });
  assert.equal(res.statusCode, 401);
  assert.deepEqual(res.json(), UNAUTH);
});

test('FAULTS A2: 403 when the key lacks the scope', async () => {
  const { app } = await setup();
  const res = await app.inject({
    method: 'GET',
    url: '/api/v1/lookup?value=198.51.100.7',
    headers: bearer(KEYS.metrics),
  });
  assert.equal(res.statusCode, 403);
  assert.deepEqual(res.json(), {
    error: { code: 'STIXGATE_ERR_API_FORBIDDEN', message: 'this API key lacks the "lookup" scope' },
  });
});

test('FAULTS X11: the key id (never the key) is logged for authenticated calls', async () => {
  const { app, lines } = await setup();
  await app.inject({ method: 'GET', url: '/api/v1/lookup?value=198.51.100.7', headers: bearer(KEYS.reader) });
  await app.inject({ method: 'GET', url: '/api/v1/lookup?value=198.51.100.7', headers: bearer(KEYS.metrics) });
  const calls = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'api call');
  assert.deepEqual(
    calls.map((c) => [c.key_id, c.route, c.status]),
    [
      ['reader', '/api/v1/lookup', 200],
      ['scraper', '/api/v1/lookup', 403],
    ],
  );
  const all = lines.join('\n');
  for (const k of Object.values(KEYS)) assert.equal(all.includes(k), false);
  assert.equal(all.includes('198.51.100.7'), false);
});

test('FAULTS A5: body over the limit is a 413 with the JSON error body', async () => {
  const { app } = await setup({ body_limit_bytes: 1024 });
  const values = Array.from({ length: 100 }, (_, i) => `host-${i}.example.org`);
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/lookup',
    headers: bearer(KEYS.reader),
    payload: { values },
  });
  assert.equal(res.statusCode, 413);
  assert.deepEqual(res.json(), {
    error: { code: 'STIXGATE_ERR_API_TOO_LARGE', message: 'request body exceeds the limit of 1024 bytes' },
  });
});

test('FAULTS A6: __proto__ and constructor.prototype bodies are rejected with 400 and nothing is polluted', async () => {
  const { app } = await setup();
  const before = Object.getOwnPropertyNames(Object.prototype).length;
  for (const payload of [
    '{"values":["a.example"],"__proto__":{"polluted":1}}',
    '{"values":["a.example"],"constructor":{"prototype":{"polluted":1}}}',
  ]) {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/lookup',
      headers: { ...bearer(KEYS.reader), 'content-type': 'application/json' },
      payload,
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'STIXGATE_ERR_API_BAD_REQUEST');
  }
  assert.equal(Object.getOwnPropertyNames(Object.prototype).length, before);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('FAULTS A7: unsupported content type is a 415; malformed JSON a 400; unknown route a 404, all as JSON errors', async () => {
  const { app } = await setup();
  const text = await app.inject({
    method: 'POST',
    url: '/api/v1/lookup',
    headers: { ...bearer(KEYS.reader), 'content-type': 'text/plain' },
    payload: '{"values":[]}',
  });
  assert.equal(text.statusCode, 415);
  assert.deepEqual(text.json(), {
    error: {
      code: 'STIXGATE_ERR_API_UNSUPPORTED_MEDIA_TYPE',
      message: 'unsupported content type; send application/json',
    },
  });
  const broken = await app.inject({
    method: 'POST',
    url: '/api/v1/lookup',
    headers: { ...bearer(KEYS.reader), 'content-type': 'application/json' },
    payload: '{"values":[',
  });
  assert.equal(broken.statusCode, 400);
  assert.equal(broken.json().error.code, 'STIXGATE_ERR_API_BAD_REQUEST');
  const missing = await app.inject({ method: 'GET', url: '/api/v1/nothing/..%2f..%2fetc' });
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(missing.json(), { error: { code: 'STIXGATE_ERR_API_NOT_FOUND', message: 'not found' } });
  const verb = await app.inject({
    method: 'PUT',
    url: '/api/v1/lookup',
    headers: bearer(KEYS.reader),
    payload: { values: [] },
  });
  assert.equal(verb.statusCode, 405);
  assert.equal(verb.headers.allow, 'GET, HEAD, POST');
});

test('server limits come from the config; the schema rejects a malformed key hash and an unknown scope (FAULTS C9)', async () => {
  const { app } = await setup({ request_timeout_secs: 20, headers_timeout_secs: 7, body_limit_bytes: 4096 });
  assert.equal(app.server.headersTimeout, 7000);
  assert.equal((app.initialConfig as { requestTimeout?: number }).requestTimeout, 20000);
  assert.equal(app.initialConfig.bodyLimit, 4096);
  assert.equal(app.initialConfig.onProtoPoisoning, 'error');
  const r = validate(serverSchema, {
    api_keys: { bad: { hash: 'md5:abc', scopes: ['lookup', 'root'] } },
    max_batch_size: 200000,
  });
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.deepEqual(r.issues.map((i) => i.path).sort(), [
      'api_keys.bad.hash',
      'api_keys.bad.scopes[1]',
      'max_batch_size',
    ]);
  }
});

test('a handler that reads the caller on a route without the authentication hook answers 500, never anonymously', async () => {
  const { default: Fastify } = await import('fastify');
  const { principalOf } = await import('../../src/server/auth.js');
  const { registerErrorHandling } = await import('../../src/server/errors.js');
  const app = Fastify();
  app.decorateRequest('principal', null);
  registerErrorHandling(app);
  app.get('/unguarded', async (req) => ({ key: principalOf(req).keyId }));
  const res = await app.inject({ method: 'GET', url: '/unguarded' });
  assert.equal(res.statusCode, 500);
  assert.equal(res.json().error.code, 'STIXGATE_ERR_API_INTERNAL');
  await app.close();
});
