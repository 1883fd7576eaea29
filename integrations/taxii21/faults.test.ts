import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { StixgateError } from '../../src/core/errors.js';
import { collectPages, makeSource, runOnce, tempStore } from '../../test/helpers/taxii21-harness.js';
import { parseCursor } from './cursor.js';
import { STUCK_PAGES } from './poll.js';
import { COLLECTION_ID, indicators, startTaxiiServer } from './test-server.js';
import { must } from '../../test/helpers/must.js';

/** FAULTS F22-F26 and TAXII-specific network cases, against loopback TAXII servers. */

const NOW = Date.UTC(2026, 2, 1, 12);
const objectsRequests = (reqs: { url: string }[]) => reqs.filter((r) => r.url.includes('/objects/'));
const isErr = (code: string, reason: string, re?: RegExp) => (e: unknown) =>
  e instanceof StixgateError && e.code === code && e.reason === reason && (re === undefined || re.test(e.message));

describe('taxii21 faults', () => {
  it('F22: more=true without next and Date-Added-Last equal to added_after stops after K identical pages', async () => {
    const srv = await startTaxiiServer(indicators(5), {
      moreForever: true,
      noNext: true,
      dateAddedLast: () => '2026-02-01T00:00:04.000000Z',
    });
    try {
      const h = makeSource({ url: `${srv.url}/root/`, overlap_secs: 0 });
      const t0 = Date.now();
      const pages = await collectPages(h, { now: NOW });
      assert.ok(Date.now() - t0 < 2000);
      // page 1: the 5 objects; then added_after = 00:00:04 returns nothing, the same page each time
      assert.equal(STUCK_PAGES, 3);
      assert.deepEqual(
        pages.map((p) => p.received),
        [5, 0, 0, 0],
      );
      assert.equal(objectsRequests(srv.requests).length, 4);
      assert.deepEqual(
        objectsRequests(srv.requests)
          .slice(1)
          .map((r) => new URL(r.url, srv.url).searchParams.get('added_after')),
        ['2026-02-01T00:00:04.000000Z', '2026-02-01T00:00:04.000000Z', '2026-02-01T00:00:04.000000Z'],
      );
      assert.deepEqual(
        pages.flatMap((p) => p.rejections.map((r) => r.reason)),
        ['taxii_pagination_stuck'],
      );
      assert.equal(
        must(must(pages.at(-1), 'pages.at(-1)').rejections[0], 'pages.at(-1).rejections[0]').message,
        'collection Indicators: 3 identical pages with more=true (no next, X-TAXII-Date-Added-Last 2026-02-01T00:00:04.000000Z); paging stopped',
      );
      assert.equal(h.logs.filter((l) => l.reason === 'taxii_pagination_stuck').length, 1);
      // the progress made is committed: the cursor is the last date_added seen
      assert.equal(
        parseCursor(must(pages.at(-1), 'pages.at(-1)').cursor).collections[COLLECTION_ID],
        '2026-02-01T00:00:04.000000000Z',
      );
    } finally {
      await srv.close();
    }
  });

  it('F22: a server repeating the same next and the same objects forever is stopped after K pages', async () => {
    const srv = await startTaxiiServer(indicators(20), { moreForever: true, nextValue: '0' });
    try {
      const h = makeSource({ url: `${srv.url}/root/`, page_size: 10 });
      const pages = await collectPages(h, { now: NOW });
      assert.deepEqual(
        pages.map((p) => p.received),
        [10, 10, 10],
      );
      assert.equal(objectsRequests(srv.requests).length, 3);
      assert.deepEqual(
        pages.map((p) => p.rejections.map((r) => r.reason)),
        [[], [], ['taxii_pagination_stuck']],
      );
      assert.match(
        must(must(pages[2], 'pages[2]').rejections[0], 'pages[2].rejections[0]').message,
        /\(the same next,/,
      );
    } finally {
      await srv.close();
    }
  });

  it('F22: the same objects under an advancing Date-Added-Last are still a loop', async () => {
    let tick = 0;
    const srv = await startTaxiiServer(indicators(4), {
      moreForever: true,
      noNext: true,
      ignoreAddedAfter: true,
      dateAddedLast: () => new Date(Date.UTC(2026, 1, 2) + 1000 * tick++).toISOString(),
    });
    try {
      const pages = await collectPages(makeSource({ url: `${srv.url}/root/` }), { now: NOW });
      assert.deepEqual(
        pages.map((p) => p.received),
        [4, 4, 4],
      );
      assert.deepEqual(
        pages.flatMap((p) => p.rejections.map((r) => r.reason)),
        ['taxii_ignores_added_after', 'taxii_pagination_stuck'],
      );
    } finally {
      await srv.close();
    }
  });

  it('F23: a server ignoring added_after causes no store growth and is detected', async () => {
    const srv = await startTaxiiServer(indicators(20), { ignoreAddedAfter: true });
    const { store, dispose } = await tempStore();
    try {
      const h = makeSource({ url: `${srv.url}/root/`, page_size: 10, overlap_secs: 0 });
      const a = await runOnce(h, store, NOW);
      assert.equal(a.created, 20);
      assert.equal(a.rejected, 0);
      const b = await runOnce(h, store, NOW);
      assert.equal(b.received, 20);
      assert.equal(b.created, 0);
      assert.equal(b.updated, 0);
      assert.deepEqual(b.rejectedByReason, { taxii_ignores_added_after: 1 });
      assert.equal((await store.stats()).objects, 20);
      assert.equal(h.logs.filter((l) => l.reason === 'taxii_ignores_added_after').length, 1);
      assert.match(
        String(
          must(
            h.logs.find((l) => l.reason === 'taxii_ignores_added_after'),
            "h.logs.find((l) => l.reason === 'taxii_ignores_added_after')",
          ).msg,
        ),
        /server ignores added_after \(asked after 2026-02-01T00:00:19\.000000Z, got objects added 2026-02-01T00:00:00\.000000Z\)/,
      );
      assert.equal(
        parseCursor(await store.getCursor('source:t')).collections[COLLECTION_ID],
        '2026-02-01T00:00:19.000000000Z',
      );
    } finally {
      await dispose();
      await srv.close();
    }
  });

  it('F24: 200 text/html (an SSO login page) is a content-type error and the cursor stays', async () => {
    const srv = await startTaxiiServer(indicators(3));
    const { store, dispose } = await tempStore();
    try {
      const h = makeSource({ url: `${srv.url}/root/`, overlap_secs: 0 });
      await runOnce(h, store, NOW);
      const before = await store.getCursor('source:t');
      assert.equal(before, `{"v":1,"collections":{"${COLLECTION_ID}":"2026-02-01T00:00:02.000000Z"}}`);
      srv.knobs.rawBody = '<html><body><form action="/sso/login">Sign in</form></body></html>';
      srv.knobs.contentType = 'text/html; charset=utf-8';
      await assert.rejects(
        runOnce(h, store, NOW),
        isErr(
          'STIXGATE_ERR_HTTP_CONTENT_TYPE',
          'content_type',
          /expected application\/taxii\+json or application\/json, got text\/html \(an SSO login page or proxy\?\)/,
        ),
      );
      assert.equal(await store.getCursor('source:t'), before);
      // on discovery too
      const d = makeSource({ url: `${srv.url}/taxii2/` });
      srv.knobs.rawBody = undefined;
      srv.knobs.contentType = undefined;
      const html = createServer((_q, r) => {
        r.writeHead(200, { 'content-type': 'text/html' });
        r.end('<html>login</html>');
      });
      await new Promise<void>((r) => html.listen(0, '127.0.0.1', r));
      try {
        const e = makeSource({ url: `http://127.0.0.1:${(html.address() as AddressInfo).port}/taxii2/` });
        await assert.rejects(collectPages(e, { now: NOW }), isErr('STIXGATE_ERR_HTTP_CONTENT_TYPE', 'content_type'));
      } finally {
        html.close();
      }
      assert.equal(
        must((await collectPages(d, { now: NOW }))[0], '(await collectPages(d, { now: NOW }))[0]').received,
        3,
      );
    } finally {
      await dispose();
      await srv.close();
    }
  });

  it('F25: next links and API roots on another origin are refused before any request goes there', async () => {
    let canaryHits = 0;
    const canary = createServer((_q, r) => {
      canaryHits++;
      r.end('{}');
    });
    await new Promise<void>((r) => canary.listen(0, '127.0.0.1', r));
    const canaryUrl = `http://127.0.0.1:${(canary.address() as AddressInfo).port}`;
    const srv = await startTaxiiServer(indicators(20));
    try {
      for (const next of [
        `${canaryUrl}/root/collections/${COLLECTION_ID}/objects/?next=1`,
        'http://169.254.169.254/latest/meta-data/',
        `//127.0.0.1:${new URL(canaryUrl).port}/x`,
        'file:///etc/passwd',
      ]) {
        srv.knobs.nextValue = next;
        const h = makeSource({ url: `${srv.url}/root/`, page_size: 10 });
        await assert.rejects(
          collectPages(h, { now: NOW }),
          isErr(
            'STIXGATE_ERR_HTTP_SSRF',
            'cross_origin',
            /`next` link .* is not on the configured origin|is not a URL/,
          ),
        );
      }
      srv.knobs.nextValue = undefined;
      srv.knobs.apiRoots = [`${canaryUrl}/root/`];
      srv.knobs.moreForever = false;
      const h = makeSource({ url: `${srv.url}/taxii2/`, api_root: 'root' });
      await assert.rejects(
        collectPages(h, { now: NOW }),
        isErr(
          'STIXGATE_ERR_HTTP_SSRF',
          'cross_origin',
          /API root http:\/\/127\.0\.0\.1:\d+\/root\/ is not on the configured origin http:\/\/127\.0\.0\.1:\d+; refused/,
        ),
      );
      assert.equal(canaryHits, 0);
      // a same-origin next link is followed
      srv.knobs.apiRoots = undefined;
      srv.knobs.nextValue = `${srv.url}/root/collections/${COLLECTION_ID}/objects/?limit=10&next=10`;
      const ok = makeSource({ url: `${srv.url}/root/`, page_size: 10, max_pages_per_run: 2 });
      assert.deepEqual(
        (await collectPages(ok, { now: NOW })).map((p) => must(p.items[0], 'p.items[0]').object.name),
        ['i0', 'i10'],
      );
      // an opaque token that merely contains a colon is a token, sent as `next=`
      srv.knobs.nextValue = 'page:2';
      srv.requests.length = 0;
      await collectPages(makeSource({ url: `${srv.url}/root/`, page_size: 10, max_pages_per_run: 2 }), { now: NOW });
      assert.equal(
        new URL(
          must(objectsRequests(srv.requests)[1], 'objectsRequests(srv.requests)[1]').url,
          srv.url,
        ).searchParams.get('next'),
        'page:2',
      );
    } finally {
      canary.close();
      await srv.close();
    }
  });

  it('F26: a Date-Added-Last a day ahead sets the cursor to now + max_skew at most', async () => {
    const ahead = new Date(NOW + 86_400_000).toISOString();
    const srv = await startTaxiiServer(indicators(3), { dateAddedLast: () => ahead });
    try {
      const h = makeSource({ url: `${srv.url}/root/`, max_skew_secs: 300 });
      const pages = await collectPages(h, { now: NOW });
      assert.equal(
        must(pages[0], 'pages[0]').cursor,
        `{"v":1,"collections":{"${COLLECTION_ID}":"2026-03-01T12:05:00.000000Z"}}`,
      );
      assert.equal(h.logs.filter((l) => l.reason === 'taxii_date_ahead').length, 1);
    } finally {
      await srv.close();
    }
  });

  it('F26: without the header the cursor comes from the manifest date_added, never the local clock', async () => {
    const srv = await startTaxiiServer(indicators(15), { noDateHeaders: true });
    try {
      const h = makeSource({ url: `${srv.url}/root/`, page_size: 10, overlap_secs: 0 });
      const pages = await collectPages(h, { now: NOW });
      assert.deepEqual(
        pages.map((p) => parseCursor(p.cursor).collections[COLLECTION_ID]),
        ['2026-02-01T00:00:09.000000000Z', '2026-02-01T00:00:14.000000000Z'],
      );
      const manifestReqs = srv.requests.filter((r) => r.url.includes('/manifest/'));
      assert.equal(manifestReqs.length, 2);
      assert.equal(
        new URL(must(manifestReqs[0], 'manifestReqs[0]').url, srv.url).searchParams.get('match[id]'),
        'indicator--00000000-0000-4000-8000-000000000009',
      );
      // no manifest either: the cursor is not advanced (the next run reads everything again)
      srv.knobs.manifest = false;
      srv.requests.length = 0;
      const none = makeSource({ url: `${srv.url}/root/`, page_size: 10, overlap_secs: 0 });
      const p2 = await collectPages(none, { now: NOW, cursor: '{"v":1,"collections":{}}' });
      assert.deepEqual(
        p2.map((p) => p.cursor),
        ['{"v":1,"collections":{}}', '{"v":1,"collections":{}}'],
      );
      assert.equal(none.logs.filter((l) => l.reason === 'taxii_no_date_added').length, 1);
    } finally {
      await srv.close();
    }
  });

  it('N: 401 names the auth settings, without leaking the secret; 406 names the TAXII version', async () => {
    const srv = await startTaxiiServer(indicators(1), { basic: 'u:right-secret' });
    try {
      await assert.rejects(
        collectPages(makeSource({ url: `${srv.url}/taxii2/` }), { now: NOW }),
        isErr(
          'STIXGATE_ERR_HTTP_STATUS',
          'status_401',
          /status 401, the server needs credentials: set auth: \{ username, password \} or auth: \{ header, api_key \} \(server: Unauthorized\)/,
        ),
      );
      await assert.rejects(
        collectPages(makeSource({ url: `${srv.url}/taxii2/`, auth: { username: 'u', password: 'wrong-secret-xyz' } }), {
          now: NOW,
        }),
        (e: unknown) =>
          isErr(
            'STIXGATE_ERR_HTTP_STATUS',
            'status_401',
            /the server refused the configured credentials: check auth\.username\/password or auth\.header\/api_key/,
          )(e) && !(e as Error).message.includes('wrong-secret-xyz'),
      );
      const v20 = createServer((_q, r) => {
        r.writeHead(406, { 'content-type': 'application/json' });
        r.end('{"title":"Unsupported media type"}');
      });
      await new Promise<void>((r) => v20.listen(0, '127.0.0.1', r));
      try {
        await assert.rejects(
          collectPages(makeSource({ url: `http://127.0.0.1:${(v20.address() as AddressInfo).port}/taxii2/` }), {
            now: NOW,
          }),
          isErr(
            'STIXGATE_ERR_HTTP_STATUS',
            'status_406',
            /does not speak application\/taxii\+json;version=2\.1 \(TAXII 2\.0 only\?\)/,
          ),
        );
      } finally {
        v20.close();
      }
    } finally {
      await srv.close();
    }
  });

  it('rejects bad objects one by one; the rest of the envelope is kept (STIX 2.0 upgraded)', async () => {
    const [good] = indicators(1);
    const srv = await startTaxiiServer([
      must(good, 'good'),
      { dateAdded: '2026-02-01T00:00:01.000000Z', obj: { type: 'indicator', id: 'indicator--not-a-uuid' } },
      {
        dateAdded: '2026-02-01T00:00:02.000000Z',
        obj: {
          type: 'malware',
          id: 'malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061',
          created: '2016-05-12T08:17:27.000Z',
          modified: '2016-05-12T08:17:27.000Z',
          name: 'x',
          labels: ['trojan'],
        },
      },
    ]);
    try {
      const pages = await collectPages(makeSource({ url: `${srv.url}/root/` }), { now: NOW });
      assert.equal(must(pages[0], 'pages[0]').received, 3);
      assert.deepEqual(
        must(pages[0], 'pages[0]').rejections.map((r) => [r.reason, r.location?.index]),
        [['bad_id', 1]],
      );
      const mal = must(must(pages[0], 'pages[0]').items[1], 'pages[0].items[1]').object as Record<string, unknown>;
      assert.deepEqual([mal.spec_version, mal.malware_types, mal.is_family], ['2.1', ['trojan'], true]);
    } finally {
      await srv.close();
    }
  });
});
