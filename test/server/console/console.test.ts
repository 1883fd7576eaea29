import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { CONSOLE_CSP } from '../../../src/server/console/index.js';
import { STYLE_PATH } from '../../../src/server/console/style.js';
import { hashApiKey } from '../../../src/server/index.js';
import { sinksBody, sourcesBody } from '../../../src/server/console/ops-pages.js';
import {
  ATTR_PAYLOAD,
  IDS,
  KEYS,
  LABEL_PAYLOAD,
  NAME_PAYLOAD,
  SCRIPT_PAYLOAD,
  T0,
  VENDOR_PAYLOAD,
  consoleRig,
} from './rig.js';
import { must } from '../../helpers/must.js';

type Rig = Awaited<ReturnType<typeof consoleRig>>;
const HTML = { accept: 'text/html,application/xhtml+xml' };

/** The value of a Set-Cookie named `name` in an answer, with its attributes. */
function setCookie(res: LightMyRequestResponse, name: string): { value: string; attrs: string } | undefined {
  const all = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const line = all.find((l) => l.startsWith(`${name}=`));
  if (!line) return undefined;
  const [pair, ...attrs] = line.split(';');
  return { value: decodeURIComponent(must(pair, 'pair').slice(name.length + 1)), attrs: attrs.join(';').trim() };
}
const csrfOf = (body: string) => /name="csrf" value="([^"]+)"/.exec(body)?.[1];

async function loginForm(app: Rig['app']) {
  const res = await app.inject({ url: '/console/login', headers: HTML });
  return {
    nonce: must(setCookie(res, 'stixgate_console_login'), "setCookie(res, 'stixgate_console_login')").value,
    csrf: must(csrfOf(res.body), 'csrfOf(res.body)'),
  };
}

async function signIn(app: Rig['app'], key: string, extra: Record<string, string> = {}) {
  const f = await loginForm(app);
  return app.inject({
    method: 'POST',
    url: '/console/login',
    headers: {
      ...HTML,
      'content-type': 'application/x-www-form-urlencoded',
      cookie: `stixgate_console_login=${f.nonce}`,
      ...extra,
    },
    payload: new URLSearchParams({ key, csrf: f.csrf, next: '/console/search' }).toString(),
  });
}

async function session(app: Rig['app'], key: string): Promise<string> {
  const res = await signIn(app, key);
  assert.equal(res.statusCode, 303, res.body);
  return must(setCookie(res, 'stixgate_console'), "setCookie(res, 'stixgate_console')").value;
}

describe('console: server-rendered pages, sign-in, escaping, CSP and scopes', () => {
  let rig: Rig;
  let now = T0;
  before(async () => {
    rig = await consoleRig({ now: () => now });
  });
  after(() => rig?.close());

  it('every page carries the strict CSP and no script, inline style or event handler; the stylesheet is served', async () => {
    const cookie = `stixgate_console=${await session(rig.app, KEYS.ops)}`;
    for (const url of [
      '/console/login',
      '/console/sources',
      '/console/sinks',
      '/console/search',
      `/console/search?value=evil.example`,
      `/console/objects/${IDS.attr}`,
      `/console/objects/${IDS.script}`,
      '/console/why',
      '/console/why?value=evil.example',
    ]) {
      const res = await rig.app.inject({ url, headers: { ...HTML, cookie } });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.headers['content-security-policy'], CONSOLE_CSP, url);
      assert.match(String(res.headers['content-type']), /^text\/html; charset=utf-8/, url);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['referrer-policy'], 'same-origin');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(/<script/i.test(res.body), false, `${url}: no script element`);
      assert.equal(/\sstyle=/i.test(res.body), false, `${url}: no inline style`);
      assert.equal(/\son[a-z]+=/i.test(res.body), false, `${url}: no event handler attribute`);
      assert.ok(res.body.includes(`<link rel="stylesheet" href="${STYLE_PATH}">`), url);
      // the console's own markup is never escaped by mistake (a nested template interpolated without `!`)
      assert.equal(
        /&#60;\/?(strong|span|div|form|input|time|a|td|tr|table|p|button|code|h[1-3]|br|label|select|option)[ &]/.test(
          res.body,
        ),
        false,
        `${url}: escaped console markup`,
      );
    }
    assert.doesNotMatch(CONSOLE_CSP, /script-src|unsafe-inline|unsafe-eval/);
    assert.match(CONSOLE_CSP, /default-src 'none'/);
    const css = await rig.app.inject({ url: STYLE_PATH });
    assert.equal(css.statusCode, 200);
    assert.match(String(css.headers['content-type']), /^text\/css/);
  });

  it('feed text is escaped: a description with <script>, attribute-breaking names and labels are shown as text', async () => {
    const cookie = `stixgate_console=${await session(rig.app, KEYS.ops)}`;
    for (const url of [
      `/console/objects/${IDS.script}`,
      `/console/objects/${IDS.attr}`,
      '/console/search',
      `/console/search?label=${encodeURIComponent(LABEL_PAYLOAD)}`,
    ]) {
      const res = await rig.app.inject({ url, headers: { ...HTML, cookie } });
      assert.equal(res.statusCode, 200, url);
      for (const p of [SCRIPT_PAYLOAD, ATTR_PAYLOAD, NAME_PAYLOAD, LABEL_PAYLOAD])
        assert.equal(res.body.includes(p), false, `${url}: raw ${p}`);
      assert.equal(/<img|<svg|onerror=|onload=|onfocus=/i.test(res.body), false, `${url}: no live markup from a feed`);
    }
    const s = await rig.app.inject({ url: `/console/objects/${IDS.script}`, headers: { ...HTML, cookie } });
    assert.ok(
      s.body.includes(
        '&#60;script&#62;document.title&#61;&#34;pwned-by-script&#34;;window.__pwned&#61;1&#60;/script&#62;',
      ),
      'the description as text',
    );
    const a = await rig.app.inject({ url: `/console/objects/${IDS.attr}`, headers: { ...HTML, cookie } });
    assert.ok(
      a.body.includes(
        '&#34;&#62;&#60;img src&#61;x onerror&#61;&#34;document.title&#61;&#39;pwned-by-attr&#39;&#34;&#62;',
      ),
      'the attribute payload as text',
    );
    // a search form echoes the query into value="…": it stays inside the attribute
    const q = await rig.app.inject({
      url: `/console/search?source=${encodeURIComponent(ATTR_PAYLOAD)}`,
      headers: { ...HTML, cookie },
    });
    assert.equal(q.statusCode, 200);
    assert.ok(
      q.body.includes('name="source" value="&#34;&#62;&#60;img src&#61;x'),
      'echoed query escaped inside its attribute',
    );
  });

  it('without a sign-in: a browser gets the sign-in form (401), an API client the JSON error; a key in a header works as on the API', async () => {
    const page = await rig.app.inject({ url: '/console/sources', headers: HTML });
    assert.equal(page.statusCode, 401);
    assert.match(page.body, /<form method="post" action="\/console\/login">/);
    assert.ok(page.body.includes('name="next" value="/console/sources"'));
    assert.equal(page.body.includes('feed_x'), false, 'no data before sign-in');
    const api = await rig.app.inject({ url: '/console/sources' });
    assert.equal(api.statusCode, 401);
    assert.deepEqual(api.json(), {
      error: { code: 'STIXGATE_ERR_API_UNAUTHORIZED', message: 'missing or invalid API key' },
    });
    const bearer = await rig.app.inject({
      url: '/console/sources',
      headers: { ...HTML, authorization: `Bearer ${KEYS.ops}` },
    });
    assert.equal(bearer.statusCode, 200);
    assert.ok(bearer.body.includes('id="source-feed_x"'));
    assert.equal(bearer.body.includes('Sign out'), false, 'no session to sign out of');
  });

  it('sign-in: the key for an HttpOnly, SameSite=Strict session cookie that never holds the key; a safe redirect', async () => {
    const res = await signIn(rig.app, KEYS.ops);
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/console/search');
    const c = must(setCookie(res, 'stixgate_console'), "setCookie(res, 'stixgate_console')");
    assert.match(c.attrs, /HttpOnly/);
    assert.match(c.attrs, /SameSite=Strict/);
    assert.match(c.attrs, /Path=\/console/);
    assert.match(c.attrs, /Max-Age=28800/);
    assert.equal(c.value.includes(KEYS.ops), false);
    assert.equal(
      Buffer.from(must(c.value.split('.')[0], "c.value.split('.')[0]"), 'base64url')
        .toString()
        .includes(KEYS.ops),
      false,
      'the key is not in the cookie',
    );
    // a next that leaves the console goes home instead
    const f = await loginForm(rig.app);
    for (const next of [
      '//evil.example/x',
      'https://evil.example/',
      '/console/../api/v1/admin/reload',
      '/console\\@evil',
    ]) {
      const r = await rig.app.inject({
        method: 'POST',
        url: '/console/login',
        headers: {
          ...HTML,
          'content-type': 'application/x-www-form-urlencoded',
          cookie: `stixgate_console_login=${f.nonce}`,
        },
        payload: new URLSearchParams({ key: KEYS.ops, csrf: f.csrf, next }).toString(),
      });
      assert.equal(r.headers.location, '/console', next);
    }
    assert.equal((await signIn(rig.app, KEYS.ops)).headers.location, '/console/search', 'a console path is kept');
  });

  it('sign-in is refused for an invalid key, a key with neither console scope, a stale or missing form token, and a cross-site form', async () => {
    const bad = await signIn(rig.app, 'k-not-a-key-000000000000000');
    assert.equal(bad.statusCode, 401);
    assert.equal(setCookie(bad, 'stixgate_console'), undefined);
    const metrics = await signIn(rig.app, KEYS.metricsOnly);
    assert.equal(metrics.statusCode, 403);
    assert.match(metrics.body, /none of the admin, search and lookup scopes/);
    assert.equal(setCookie(metrics, 'stixgate_console'), undefined);
    const cross = await signIn(rig.app, KEYS.ops, { 'sec-fetch-site': 'cross-site' });
    assert.equal(cross.statusCode, 403);
    const origin = await signIn(rig.app, KEYS.ops, { origin: 'https://evil.example' });
    assert.equal(origin.statusCode, 403);
    const f = await loginForm(rig.app);
    const noToken = await rig.app.inject({
      method: 'POST',
      url: '/console/login',
      headers: {
        ...HTML,
        'content-type': 'application/x-www-form-urlencoded',
        cookie: `stixgate_console_login=${f.nonce}`,
      },
      payload: new URLSearchParams({ key: KEYS.ops }).toString(),
    });
    assert.equal(noToken.statusCode, 403);
    const noCookie = await rig.app.inject({
      method: 'POST',
      url: '/console/login',
      headers: { ...HTML, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ key: KEYS.ops, csrf: f.csrf }).toString(),
    });
    assert.equal(noCookie.statusCode, 403);
    // the form expires after 15 minutes
    now = T0 + 16 * 60_000;
    try {
      const stale = await rig.app.inject({
        method: 'POST',
        url: '/console/login',
        headers: {
          ...HTML,
          'content-type': 'application/x-www-form-urlencoded',
          cookie: `stixgate_console_login=${f.nonce}`,
        },
        payload: new URLSearchParams({ key: KEYS.ops, csrf: f.csrf }).toString(),
      });
      assert.equal(stale.statusCode, 403);
    } finally {
      now = T0;
    }
  });

  it("a key without the page's scope sees nothing of it (403), in the browser and on the wire", async () => {
    const admin = `stixgate_console=${await session(rig.app, KEYS.adminOnly)}`;
    const search = `stixgate_console=${await session(rig.app, KEYS.searcher)}`;
    for (const url of ['/console/search?value=evil.example', `/console/objects/${IDS.script}`]) {
      const res = await rig.app.inject({ url, headers: { ...HTML, cookie: admin } });
      assert.equal(res.statusCode, 403, url);
      assert.match(res.body, /lacks the &#34;search&#34; scope/);
      for (const t of ['evil.example', '198.51.100.23', 'script in the description'])
        assert.equal(res.body.includes(t), false, `${url} shows ${t}`);
    }
    for (const url of ['/console/sources', '/console/sinks']) {
      const res = await rig.app.inject({ url, headers: { ...HTML, cookie: search } });
      assert.equal(res.statusCode, 403, url);
      assert.equal(res.body.includes('feed_x'), false);
    }
    // the navigation offers only what the key may open
    const nav = await rig.app.inject({ url: '/console/search', headers: { ...HTML, cookie: search } });
    assert.equal(nav.body.includes('href="/console/sources"'), false);
    assert.equal(
      (await rig.app.inject({ url: '/console', headers: { ...HTML, cookie: search } })).headers.location,
      '/console/search',
    );
    assert.equal(
      (await rig.app.inject({ url: '/console', headers: { ...HTML, cookie: admin } })).headers.location,
      '/console/sources',
    );
  });

  it("the key's TLP ceiling: a CLEAR key finds only CLEAR views; the AMBER object is a 404 like an unknown id", async () => {
    const clear = `stixgate_console=${await session(rig.app, KEYS.searcher)}`;
    const amber = `stixgate_console=${await session(rig.app, KEYS.ops)}`;
    const all = await rig.app.inject({ url: '/console/search', headers: { ...HTML, cookie: clear } });
    assert.ok(all.body.includes('198.51.100.23'));
    for (const t of ['evil.example', '10.66.0.1', 'AMBER-SECRET', 'feed_amber'])
      assert.equal(all.body.includes(t), false, t);
    const hidden = await rig.app.inject({ url: `/console/objects/${IDS.amber}`, headers: { ...HTML, cookie: clear } });
    const unknown = await rig.app.inject({
      url: '/console/objects/indicator--00000000-0000-4000-8000-000000000000',
      headers: { ...HTML, cookie: clear },
    });
    assert.equal(hidden.statusCode, 404);
    assert.equal(hidden.body, unknown.body);
    const seen = await rig.app.inject({ url: `/console/objects/${IDS.amber}`, headers: { ...HTML, cookie: amber } });
    assert.equal(seen.statusCode, 200);
    assert.ok(seen.body.includes('AMBER-SECRET-TEXT'));
    assert.ok(seen.body.includes('feed_amber'));
  });

  it("search pages with the API's sealed cursor; a forged cursor is refused", async () => {
    const cookie = `stixgate_console=${await session(rig.app, KEYS.ops)}`;
    const one = await rig.app.inject({ url: '/console/search?value=198.51.100.23', headers: { ...HTML, cookie } });
    assert.equal(one.statusCode, 200);
    assert.equal((one.body.match(/href="\/console\/objects\//g) ?? []).length, 1);
    const bad = await rig.app.inject({ url: '/console/search?cursor=abc.def', headers: { ...HTML, cookie } });
    assert.equal(bad.statusCode, 400);
    const wrong = await rig.app.inject({ url: '/console/search?min_score=999', headers: { ...HTML, cookie } });
    assert.equal(wrong.statusCode, 400);
  });

  it("actions need the session's CSRF token and a same-origin request; with it a source is paused", async () => {
    const value = await session(rig.app, KEYS.ops);
    const cookie = `stixgate_console=${value}`;
    const page = await rig.app.inject({ url: '/console/sources', headers: { ...HTML, cookie } });
    const csrf = must(csrfOf(page.body), 'csrfOf(page.body)');
    const post = (payload: Record<string, string>, extra: Record<string, string> = {}) =>
      rig.app.inject({
        method: 'POST',
        url: '/console/sources/feed_x/pause',
        headers: { ...HTML, cookie, 'content-type': 'application/x-www-form-urlencoded', ...extra },
        payload: new URLSearchParams(payload).toString(),
      });
    assert.equal((await post({})).statusCode, 403, 'no token');
    assert.equal((await post({ csrf: `${csrf.slice(0, -2)}AA` })).statusCode, 403, 'a wrong token');
    assert.equal((await post({ csrf }, { 'sec-fetch-site': 'cross-site' })).statusCode, 403, 'cross-site');
    const other = await session(rig.app, KEYS.adminOnly);
    const otherCsrf = must(
      csrfOf(
        (await rig.app.inject({ url: '/console/sources', headers: { ...HTML, cookie: `stixgate_console=${other}` } }))
          .body,
      ),
      "csrfOf( (await rig.app.inject({ url: '/console/sources', ...",
    );
    assert.equal((await post({ csrf: otherCsrf })).statusCode, 403, "another session's token");
    assert.equal(await rig.store.getCursor('admin:paused'), undefined, 'nothing paused by the refused forms');
    const ok = await post({ csrf }, { 'sec-fetch-site': 'same-origin' });
    assert.equal(ok.statusCode, 303);
    assert.equal(ok.headers.location, '/console/sources?done=pause&id=feed_x');
    assert.equal(await rig.store.getCursor('admin:paused'), '["feed_x"]', 'paused through the admin control');
    const after = await rig.app.inject({ url: String(ok.headers.location), headers: { ...HTML, cookie } });
    assert.match(after.body, /<div class="notice" role="status">feed_x: paused<\/div>/);
    // a key in a header (no cookie) needs no form token: another site cannot send it
    const api = await rig.app.inject({
      method: 'POST',
      url: '/console/sources/feed_x/resume',
      headers: { authorization: `Bearer ${KEYS.ops}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    });
    assert.equal(api.statusCode, 303);
  });

  it('a session ends when it expires, is altered, or its key is re-hashed; sign-out clears it', async () => {
    const value = await session(rig.app, KEYS.ops);
    const get = (c: string) =>
      rig.app.inject({ url: '/console/sources', headers: { cookie: `stixgate_console=${c}` } });
    assert.equal((await get(value)).statusCode, 200);
    const [body, mac] = value.split('.');
    const forged = Buffer.from(
      Buffer.from(must(body, 'body'), 'base64url').toString().replace('"ops"', '"admin_only"'),
    ).toString('base64url');
    assert.equal((await get(`${forged}.${mac}`)).statusCode, 401, 'another key id');
    assert.equal((await get(`${body}.${must(mac, 'mac').slice(0, -2)}AA`)).statusCode, 401, 'an altered seal');
    now = T0 + 8 * 3600_000;
    try {
      assert.equal((await get(value)).statusCode, 401, 'expired');
    } finally {
      now = T0;
    }
    const signedIn = (
      await rig.app.inject({ url: '/console/search', headers: { cookie: `stixgate_console=${value}` } })
    ).body;
    const csrf =
      /<form method="post" action="\/console\/logout"><input type="hidden" name="csrf" value="([^"]+)">/.exec(
        signedIn,
      )?.[1];
    assert.ok(csrf, 'a sign-out form on every page of a session');
    const out = await rig.app.inject({
      method: 'POST',
      url: '/console/logout',
      headers: { cookie: `stixgate_console=${value}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `csrf=${encodeURIComponent(csrf)}`,
    });
    assert.equal(out.statusCode, 303);
    assert.match(String(setCookie(out, 'stixgate_console')?.attrs), /Expires=Thu, 01 Jan 1970/);
  });
});

describe('console: the why of a value (the delivery ledger)', () => {
  let rig: Rig;
  before(async () => {
    rig = await consoleRig();
  });
  after(() => rig?.close());

  it("each sink's state, since when, the change, the sources and the vendor's message (escaped)", async () => {
    const cookie = `stixgate_console=${await session(rig.app, KEYS.ops)}`;
    const rejected = await rig.app.inject({ url: '/console/why?value=evil.example', headers: { ...HTML, cookie } });
    assert.equal(rejected.statusCode, 200);
    const row = /<tr class="delivery">.*?<\/tr>/s.exec(rejected.body)?.[0] ?? '';
    assert.match(row, /<td class="value">splunk_main<\/td><td>domain-name<\/td><td class="bad">rejected<\/td>/);
    assert.ok(
      row.includes('invalid indicator &#60;iframe src&#61;&#34;javascript:alert(1)&#34;&#62;&#60;/iframe&#62;'),
      'the vendor message as text',
    );
    assert.equal(rejected.body.includes(VENDOR_PAYLOAD), false);
    assert.ok(row.includes('<time datetime="2026-06-01T00:01:00.000Z">'), 'since the push');
    assert.match(row, /<span class="value">feed_x<\/span> <span class="tlp tlp-green">TLP:GREEN<\/span>/);
    assert.ok(
      rejected.body.includes('<span class="value" id="why-value">evil.example</span> as <strong>domain-name</strong>'),
    );
    const present = await rig.app.inject({ url: '/console/why?value=198.51.100.23', headers: { ...HTML, cookie } });
    assert.match(present.body, /<td class="ok">present<\/td><td>pushed<\/td>/);
    // the object page lists the ledger of its values
    const obj = await rig.app.inject({ url: `/console/objects/${IDS.attr}`, headers: { ...HTML, cookie } });
    assert.match(/<div id="deliveries">.*?<\/div>/s.exec(obj.body)?.[0] ?? '', /rejected/);
    const bad = await rig.app.inject({
      url: `/console/why?value=${encodeURIComponent('not a value <b>')}`,
      headers: { ...HTML, cookie },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.body.includes('<b>'), false);
  });

  it("the ledger as the key's ceiling sees it; the lookup scope is needed, as on the API", async () => {
    const clear = `stixgate_console=${await session(rig.app, KEYS.searcher)}`;
    const green = await rig.app.inject({ url: '/console/why?value=evil.example', headers: { ...HTML, cookie: clear } });
    assert.equal(green.statusCode, 200);
    for (const t of ['rejected', 'feed_x', 'invalid indicator']) assert.equal(green.body.includes(t), false, t);
    assert.match(green.body, /No sink has a record of this value that this key may see/);
    const admin = `stixgate_console=${await session(rig.app, KEYS.adminOnly)}`;
    const refused = await rig.app.inject({
      url: '/console/why?value=evil.example',
      headers: { ...HTML, cookie: admin },
    });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.body.includes('rejected'), false);
    // a lookup-only key signs in to the why page alone
    const res = await signIn(rig.app, KEYS.lookupOnly);
    assert.equal(res.statusCode, 303);
    const lookup = `stixgate_console=${must(setCookie(res, 'stixgate_console'), "setCookie(res, 'stixgate_console')").value}`;
    assert.equal(
      (await rig.app.inject({ url: '/console', headers: { ...HTML, cookie: lookup } })).headers.location,
      '/console/why',
    );
    const page = await rig.app.inject({ url: '/console/why?value=evil.example', headers: { ...HTML, cookie: lookup } });
    assert.deepEqual(
      [...page.body.matchAll(/<nav>(.*?)<\/nav>/g)].map((m) =>
        must(m[1], 'm[1]')
          .replace(/<[^>]+>/g, ' ')
          .trim(),
      ),
      ['Why'],
    );
    assert.match(page.body, /rejected/);
  });
});

describe('console sessions across servers', () => {
  it('with a shared session_secret another instance accepts a session; a re-hashed key ends it', async () => {
    const secret = 's'.repeat(40);
    const a = await consoleRig({ sessionSecret: secret });
    try {
      const value = await session(a.app, KEYS.ops);
      const b = await consoleRig({ sessionSecret: secret });
      try {
        assert.equal(
          (await b.app.inject({ url: '/console/sources', headers: { cookie: `stixgate_console=${value}` } }))
            .statusCode,
          200,
        );
      } finally {
        await b.close();
      }
      const c = await consoleRig({
        sessionSecret: secret,
        keys: { ops: { hash: hashApiKey('k-rotated-key-000000000000000'), scopes: ['admin', 'search'] } },
      });
      try {
        assert.equal(
          (await c.app.inject({ url: '/console/sources', headers: { cookie: `stixgate_console=${value}` } }))
            .statusCode,
          401,
        );
      } finally {
        await c.close();
      }
    } finally {
      await a.close();
    }
  });
});

describe('console pages of sources and sinks: remote error texts are escaped', () => {
  it("an error and a summary key holding markup are shown as text; a run's samples are left out", () => {
    const principal = { keyId: 'ops', scopes: new Set(['admin'] as const), maxTlp: 'amber' as const };
    const ctx = { principal, csrf: 'tok', path: '/console/sources' };
    const run = {
      started: '2026-06-01T00:00:00.000Z',
      ended: '2026-06-01T00:00:01.000Z',
      outcome: 'error' as const,
      error: `HTTP 500 from feed: ${SCRIPT_PAYLOAD}${ATTR_PAYLOAD}`,
    };
    const src = sourcesBody(
      [
        {
          id: 'feed_x',
          type: 'text_list',
          state: 'idle',
          paused: false,
          running: false,
          last_run: run,
          consecutive_failures: 2,
          last_summary: { [LABEL_PAYLOAD]: 3, samples: [{ message: SCRIPT_PAYLOAD }] } as Record<string, unknown>,
        },
      ],
      ctx,
    );
    const sink = sinksBody(
      [
        {
          id: 'splunk',
          type: 'splunk_kv',
          state: 'auth_refused',
          paused: false,
          running: false,
          last_run: run,
          consecutive_failures: 1,
          max_tlp: 'green',
          cursor: 3,
          head: 9,
          lag: 6,
        },
      ],
      ctx,
      { deadLetters: () => 4, drift: () => ({ missing: 2, stale: 0, extra: 1, foreign: 5 }), lastReconcile: () => 0 },
    );
    for (const [name, body] of [
      ['sources', src],
      ['sinks', sink],
    ]) {
      for (const p of [SCRIPT_PAYLOAD, ATTR_PAYLOAD, LABEL_PAYLOAD])
        assert.equal(must(body, 'body').includes(p), false, `${name}: raw ${p}`);
      assert.equal(/<script|<img|<svg/i.test(must(body, 'body')), false, name);
      assert.ok(must(body, 'body').includes('HTTP 500 from feed: &#60;script&#62;'), `${name}: the error as text`);
    }
    assert.match(src, /<td class="bad">failing<\/td>/);
    assert.match(sink, /<td class="bad">credentials refused<\/td>/);
    assert.match(sink, /<td class="num warn">6<\/td><td class="num">4<\/td>/, 'lag and dead letters');
    assert.match(
      sink,
      /<td class="drift"><span class="warn">missing 2<\/span> · <span class="muted">stale 0<\/span> · <span class="warn">extra 1<\/span><br><span class="muted">foreign 5 \(left alone\)<\/span><\/td><td><span class="muted">never<\/span> <a href="\/console\/sinks\/splunk\/plan">plan<\/a><\/td>/,
      'drift and last reconcile',
    );
    assert.equal(src.includes('samples'), false, "a run's rejection samples (feed values) are not shown");
  });
});
