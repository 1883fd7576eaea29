import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { KEYS, setup } from './helpers.js';

test('real socket on 127.0.0.1: batch lookup with plain fetch', async (t) => {
  const { app } = await setup();
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const { port } = app.server.address() as AddressInfo;
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/lookup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.reader}` },
    body: JSON.stringify({ values: ['198.51.100.7', 'nothing.example'] }),
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { results: { value: string; matched: boolean }[] };
  assert.deepEqual(
    body.results.map((r) => [r.value, r.matched]),
    [
      ['198.51.100.7', true],
      ['nothing.example', false],
    ],
  );
  const unauth = await fetch(`http://127.0.0.1:${port}/api/v1/lookup?value=198.51.100.7`);
  assert.equal(unauth.status, 401);
  assert.equal(unauth.headers.get('www-authenticate'), 'Bearer realm="stixgate"');
});
