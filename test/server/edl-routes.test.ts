/**
 * GET /edl/{list}/{kind}: the prebuilt body with ETag / Last-Modified, 304 for conditional GETs
 * (RFC 9110 §13.1.2, §13.1.3, §13.2.2), keys with the `edl` scope (Bearer, X-Api-Key, or Basic
 * where enabled), the key's TLP ceiling against the list's, and no store work per request.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { T0, indicator } from '../lookup/fixtures.js';
import { KEYS, bearer } from './helpers.js';
import { EDL, EDL_CLEAR, VIAS, basic, rig, type Via } from './edl-rig.js';

/** Each test runs through fastify's inject and over a socket (where the lean path answers what it may). */
function both(name: string, fn: (t: TestContext, via: Via) => Promise<void>): void {
  for (const via of VIAS) test(`${name} (${via})`, (t) => fn(t, via));
}

both(
  '200: the list body as text, one value per line, with a strong ETag, Last-Modified and no-cache',
  async (t, via) => {
    const { app } = await rig(t, via);
    const r = await app.inject({ url: '/edl/pan/ip', headers: bearer(EDL) });
    assert.equal(r.statusCode, 200);
    assert.equal(r.body, '198.51.100.7\n203.0.113.0/24\n', "AMBER 192.0.2.1 is above the list's GREEN ceiling");
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.match(String(r.headers.etag), /^"[A-Za-z0-9_-]{27}"$/);
    assert.equal(r.headers['last-modified'], new Date(T0).toUTCString());
    assert.equal(r.headers['cache-control'], 'private, no-cache');
    const url = await app.inject({ url: '/edl/pan/url', headers: { 'x-api-key': EDL } });
    assert.equal(url.body, 'evil.example/a\n');
    const head = await app.inject({ method: 'HEAD', url: '/edl/pan/ip', headers: bearer(EDL) });
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers.etag, r.headers.etag);
  },
);

both(
  '304: If-None-Match (exact, in a list, weak, *) and If-Modified-Since; If-None-Match decides when both are sent',
  async (t, via) => {
    const { app, registry, lean } = await rig(t, via);
    const first = await app.inject({ url: '/edl/pan/ip', headers: bearer(EDL) });
    const etag = String(first.headers.etag);
    const lm = String(first.headers['last-modified']);
    const cases: [Record<string, string>, number][] = [
      [{ 'if-none-match': etag }, 304],
      [{ 'if-none-match': `"other", ${etag}` }, 304],
      [{ 'if-none-match': `W/${etag}` }, 304],
      [{ 'if-none-match': '*' }, 304],
      [{ 'if-none-match': '"other"' }, 200],
      [{ 'if-modified-since': lm }, 304],
      [{ 'if-modified-since': new Date(T0 + 3600_000).toUTCString() }, 304],
      [{ 'if-modified-since': new Date(T0 - 1000).toUTCString() }, 200],
      [{ 'if-modified-since': 'not a date' }, 200],
      [{ 'if-none-match': '"other"', 'if-modified-since': new Date(T0 + 3600_000).toUTCString() }, 200],
    ];
    for (const [headers, status] of cases) {
      const r = await app.inject({ url: '/edl/pan/ip', headers: { ...bearer(EDL), ...headers } });
      assert.equal(r.statusCode, status, JSON.stringify(headers));
      if (status === 304) {
        assert.equal(r.body, '');
        assert.equal(r.headers.etag, etag, '304 repeats the validators');
        assert.equal(r.headers['last-modified'], lm);
      } else assert.equal(r.body, first.body);
    }
    const text = await registry.metrics();
    assert.match(text, /stixgate_edl_requests_total\{list="pan",status="304"\} 6/);
    assert.match(text, /stixgate_edl_requests_total\{list="pan",status="200"\} 5/);
    assert.equal(lean(), via === 'socket' ? 11 : 0, 'over a socket the lean path answered every 200 and 304');
  },
);

both(
  'a change: the old ETag gets the new body, Last-Modified moves; requests never read the store nor rebuild',
  async (t, via) => {
    const { app, store, lists, setNow } = await rig(t, via);
    const before = await app.inject({ url: '/edl/pan/ip', headers: bearer(EDL) });
    const reads = lists.storeReads;
    for (let i = 0; i < 50; i++) {
      const r = await app.inject({
        url: '/edl/pan/ip',
        headers: { ...bearer(EDL), 'if-none-match': String(before.headers.etag) },
      });
      assert.equal(r.statusCode, 304);
    }
    assert.equal(lists.storeReads, reads, 'serving reads nothing from the store');
    const ip = lists.get('pan', 'ip');
    assert.ok(!('missing' in ip));
    store.push(indicator({ n: 5, pattern: "[ipv4-addr:value = '198.51.100.9']", tlp: 'clear', score: 50 }));
    setNow(T0 + 60_000);
    await lists.tick();
    const after = await app.inject({
      url: '/edl/pan/ip',
      headers: { ...bearer(EDL), 'if-none-match': String(before.headers.etag) },
    });
    assert.equal(after.statusCode, 200);
    assert.equal(after.body, '198.51.100.7\n203.0.113.0/24\n198.51.100.9\n');
    assert.notEqual(after.headers.etag, before.headers.etag);
    assert.equal(after.headers['last-modified'], new Date(T0 + 60_000).toUTCString());
    const stale = await app.inject({
      url: '/edl/pan/ip',
      headers: { ...bearer(EDL), 'if-modified-since': String(before.headers['last-modified']) },
    });
    assert.equal(stale.statusCode, 200);
  },
);

both(
  "keys: the edl scope is needed; Basic credentials (user = key id) where enabled; a key below the list's TLP gets 403",
  async (t, via) => {
    const { app } = await rig(t, via);
    const none = await app.inject({ url: '/edl/pan/ip' });
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="stixgate", Basic realm="stixgate", charset="UTF-8"');
    assert.equal((await app.inject({ url: '/edl/pan/ip', headers: basic('firewall', EDL) })).statusCode, 200);
    assert.equal(
      (await app.inject({ url: '/edl/pan/ip', headers: basic('clear_fw', EDL) })).statusCode,
      401,
      'the user must name the key',
    );
    assert.equal((await app.inject({ url: '/edl/pan/ip', headers: basic('firewall', 'wrong') })).statusCode, 401);
    assert.equal((await app.inject({ url: '/edl/pan/ip', headers: { authorization: 'Basic !!!' } })).statusCode, 401);
    assert.equal(
      (await app.inject({ url: '/edl/pan/ip', headers: { ...basic('firewall', EDL), 'x-api-key': EDL } })).statusCode,
      401,
      'Basic and a key header together are conflicting',
    );
    const lookupBasic = await app.inject({
      url: '/api/v1/lookup?value=198.51.100.7',
      headers: basic('reader', KEYS.reader),
    });
    assert.equal(lookupBasic.statusCode, 401, 'Basic is accepted on /edl routes only');
    assert.equal(lookupBasic.headers['www-authenticate'], 'Bearer realm="stixgate"');
    const noScope = await app.inject({ url: '/edl/pan/ip', headers: bearer(KEYS.reader) });
    assert.deepEqual([noScope.statusCode, noScope.json().error.message], [403, 'this API key lacks the "edl" scope']);
    const low = await app.inject({ url: '/edl/pan/ip', headers: bearer(EDL_CLEAR) });
    assert.deepEqual(
      [low.statusCode, low.json().error],
      [
        403,
        {
          code: 'STIXGATE_ERR_API_FORBIDDEN',
          message: 'this API key may read up to TLP:CLEAR; the list is a TLP:GREEN view',
        },
      ],
    );
    assert.equal(low.body.includes('198.51.100.7'), false);
    const open = await app.inject({ url: '/edl/open/ip', headers: bearer(EDL_CLEAR) });
    assert.deepEqual([open.statusCode, open.body], [200, '203.0.113.0/24\n']);
  },
);

both(
  'without basic_auth, Basic credentials are refused; unknown lists and kinds are 404, invalid kinds 400, none echoing the request',
  async (t, via) => {
    const { app } = await rig(t, via, false);
    const b = await app.inject({ url: '/edl/pan/ip', headers: basic('firewall', EDL) });
    assert.equal(b.statusCode, 401);
    assert.equal(b.headers['www-authenticate'], 'Bearer realm="stixgate"');
    const unknown = await app.inject({ url: '/edl/secretlist/ip', headers: bearer(EDL) });
    assert.deepEqual(
      [unknown.statusCode, unknown.json().error],
      [404, { code: 'STIXGATE_ERR_API_NOT_FOUND', message: 'no firewall list by this name' }],
    );
    const kind = await app.inject({ url: '/edl/open/url', headers: bearer(EDL) });
    assert.deepEqual([kind.statusCode, kind.json().error.message], [404, 'this list serves no such kind']);
    const bad = await app.inject({ url: '/edl/pan/email', headers: bearer(EDL) });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'STIXGATE_ERR_API_BAD_REQUEST');
  },
);
