import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildIndex } from '../../src/lookup/index.js';
import { CursorSealer } from '../../src/search/cursor.js';
import { hashApiKey } from '../../src/server/index.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { T0, indicatorFor } from '../store/fixtures.js';
import { bearer, serverConfig, quietServer } from './helpers.js';

test('a cursor opens only under its key, filter and ceiling', () => {
  const a = new CursorSealer('s'.repeat(32));
  const scope = { filter: '{"states":["active"]}', ceiling: 'green' };
  const token = a.seal('cjEy', scope);
  assert.equal(a.open(token, scope), 'cjEy');
  assert.equal(new CursorSealer('s'.repeat(32)).open(token, scope), 'cjEy', 'the same secret elsewhere');
  assert.equal(new CursorSealer('t'.repeat(32)).open(token, scope), undefined, 'another secret');
  assert.equal(new CursorSealer().open(token, scope), undefined, 'a random key');
  assert.equal(a.open(token, { ...scope, ceiling: 'red' }), undefined);
  assert.equal(a.open(token, { ...scope, filter: '{"states":["revoked"]}' }), undefined);
  // a body re-sealed under another position with the old MAC
  const [, mac] = token.split('.');
  const forged = `${Buffer.from(JSON.stringify(['c1', 'cjk5OQ'])).toString('base64url')}.${mac}`;
  assert.equal(a.open(forged, scope), undefined);
  for (const junk of ['', '.', 'abc', `${'a'.repeat(3000)}.b`]) assert.equal(a.open(junk, scope), undefined, junk);
});

test("server.cursor_secret: instances sharing it accept each other's cursors; without it each refuses the other's", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-cursor-'));
  const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await store.upsert(
    [1, 2, 3, 4].map((n) => ({ object: indicatorFor(n), source: 'feed', tlp: 'clear' as const })),
    { now: T0 },
  );
  const { index } = await buildIndex(store, { now: () => T0 });
  const KEY = 'k-cursor-test-1a2b3c4d5e6f7a8b';
  const serve = (secret?: string) => {
    const app = quietServer({
      config: serverConfig({
        api_keys: { s: { hash: hashApiKey(KEY), scopes: ['search'] } },
        ...(secret ? { cursor_secret: secret } : {}),
      }),
      index,
      store,
      now: () => T0,
    });
    t.after(() => app.close());
    return app;
  };
  const secret = 'a-shared-secret-of-at-least-32-characters';
  const [one, two, lone] = [serve(secret), serve(secret), serve()];
  const first = (await one.inject({ url: '/api/v1/objects?limit=2', headers: bearer(KEY) })).json();
  const url = `/api/v1/objects?limit=2&cursor=${first.next}`;
  const next = await two.inject({ url, headers: bearer(KEY) });
  assert.equal(next.statusCode, 200);
  assert.deepEqual(
    next.json().objects.map((o: { id: string }) => o.id),
    [indicatorFor(3).id, indicatorFor(4).id],
  );
  assert.equal((await lone.inject({ url, headers: bearer(KEY) })).statusCode, 400);
});
