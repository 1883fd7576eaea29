import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StixgateError } from '../../src/core/errors.js';
import { ConfigError } from '../../src/config/load.js';
import { collectPages, makeSource, runOnce, tempStore } from '../../test/helpers/taxii21-harness.js';
import { COLLECTION_ID, indicator, indicators, startTaxiiServer } from './test-server.js';
import { parseCursor } from './cursor.js';
import { must } from '../../test/helpers/must.js';

const NOW = Date.UTC(2026, 2, 1, 12);
const objectsRequests = (reqs: { url: string }[]) => reqs.filter((r) => r.url.includes('/objects/'));

describe('taxii21 source', () => {
  it('discovers the API root and collection, pages with next, and commits date_added cursors', async () => {
    const srv = await startTaxiiServer(indicators(250), { basic: 'u:p' });
    try {
      const h = makeSource({
        url: `${srv.url}/taxii2/`,
        page_size: 100,
        overlap_secs: 0,
        auth: { username: 'u', password: 'p' },
      });
      const pages = await collectPages(h, { now: NOW });
      assert.deepEqual(
        pages.map((p) => p.received),
        [100, 100, 50],
      );
      assert.deepEqual(
        pages.map((p) => p.items.length),
        [100, 100, 50],
      );
      const ids = new Set(pages.flatMap((p) => p.items.map((i) => i.object.id)));
      assert.equal(ids.size, 250);
      assert.deepEqual(
        pages.map((p) => parseCursor(p.cursor).collections[COLLECTION_ID]),
        ['2026-02-01T00:01:39.000000000Z', '2026-02-01T00:03:19.000000000Z', '2026-02-01T00:04:09.000000000Z'],
      );
      assert.equal(
        must(pages[2], 'pages[2]').cursor,
        `{"v":1,"collections":{"${COLLECTION_ID}":"2026-02-01T00:04:09.000000Z"}}`,
      );
      const objs = objectsRequests(srv.requests);
      assert.deepEqual(
        objs.map((r) => new URL(r.url, srv.url).search),
        ['?limit=100', '?limit=100&next=100', '?limit=100&next=200'],
      );
      for (const r of srv.requests) {
        assert.equal(r.headers.accept, 'application/taxii+json;version=2.1');
        assert.equal(r.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
      }
      // the second poll asks after the cursor and gets nothing
      srv.requests.length = 0;
      const again = await collectPages(h, { now: NOW, cursor: must(pages[2], 'pages[2]').cursor });
      assert.deepEqual(
        again.map((p) => p.received),
        [0],
      );
      assert.equal(must(again[0], 'again[0]').cursor, must(pages[2], 'pages[2]').cursor);
      assert.equal(
        new URL(
          must(objectsRequests(srv.requests)[0], 'objectsRequests(srv.requests)[0]').url,
          srv.url,
        ).searchParams.get('added_after'),
        '2026-02-01T00:04:09.000000Z',
      );
      // an object added between polls arrives on the next one
      srv.objects = [...srv.objects, indicator(999, '2026-02-02T00:00:00.000000Z')];
      const third = await collectPages(h, { now: NOW, cursor: must(pages[2], 'pages[2]').cursor });
      assert.deepEqual(
        third.flatMap((p) => p.items.map((i) => i.object.id)),
        ['indicator--00000000-0000-4000-8000-0000000003e7'],
      );
      assert.equal(
        parseCursor(must(third[0], 'third[0]').cursor).collections[COLLECTION_ID],
        '2026-02-02T00:00:00.000000000Z',
      );
    } finally {
      await srv.close();
    }
  });

  it('re-reads the overlap window and the store absorbs it; a new object is created once', async () => {
    const srv = await startTaxiiServer(indicators(250));
    const { store, dispose } = await tempStore();
    try {
      const h = makeSource({ url: `${srv.url}/root/`, page_size: 100, overlap_secs: 60 });
      const first = await runOnce(h, store, NOW);
      assert.equal(first.received, 250);
      assert.equal(first.created, 250);
      assert.equal(
        parseCursor(await store.getCursor('source:t')).collections[COLLECTION_ID],
        '2026-02-01T00:04:09.000000000Z',
      );
      const second = await runOnce(h, store, NOW);
      // objects added in the 60 s before the cursor: 00:03:10 … 00:04:09
      assert.equal(second.received, 60);
      assert.equal(second.created, 0);
      assert.equal(
        new URL(
          must(objectsRequests(srv.requests).at(-1), 'objectsRequests(srv.requests).at(-1)').url,
          srv.url,
        ).searchParams.get('added_after'),
        '2026-02-01T00:03:09.000000Z',
      );
      srv.objects = [...srv.objects, indicator(999, '2026-02-02T00:00:00.000000Z')];
      const third = await runOnce(h, store, NOW);
      assert.equal(third.created, 1);
      assert.equal((await store.stats()).objects, 251);
    } finally {
      await dispose();
      await srv.close();
    }
  });

  it('picks collections by title, sends match[type] and match[spec_version], and an API-key header', async () => {
    const srv = await startTaxiiServer(indicators(3), { apiKey: { header: 'X-Api-Key', value: 'k-123' } });
    try {
      const h = makeSource({
        url: `${srv.url}/taxii2/`,
        api_root: 'root',
        collections: ['Indicators'],
        match_types: ['indicator', 'malware'],
        spec_versions: ['2.1'],
        auth: { header: 'X-Api-Key', api_key: 'k-123' },
      });
      const pages = await collectPages(h, { now: NOW });
      assert.equal(
        pages.reduce((n, p) => n + p.items.length, 0),
        3,
      );
      const q = new URL(must(objectsRequests(srv.requests)[0], 'objectsRequests(srv.requests)[0]').url, srv.url)
        .searchParams;
      assert.equal(q.get('match[type]'), 'indicator,malware');
      assert.equal(q.get('match[spec_version]'), '2.1');
      assert.equal(q.get('limit'), '1000');
      assert.ok(srv.requests.every((r) => r.headers['x-api-key'] === 'k-123' && r.headers.authorization === undefined));
      assert.match(
        await must(h.comp.source.probe, 'h.comp.source.probe').call(h.comp.source, {
          id: 't',
          logger: h.comp.logger,
          http: h.comp.http,
          signal: new AbortController().signal,
          now: NOW,
        }),
        /^TAXII 2\.1 test server, API root Root: 2 collections \(1 readable\), polling Indicators$/,
      );
    } finally {
      await srv.close();
    }
  });

  it('takes bare API root names (`api/v21`, as MITRE ATT&CK lists them) from the server root', async () => {
    const srv = await startTaxiiServer(indicators(2), { apiRoots: ['root'] });
    try {
      const h = makeSource({ url: `${srv.url}/taxii2/`, api_root: 'root' });
      assert.equal(
        must((await collectPages(h, { now: NOW }))[0], '(await collectPages(h, { now: NOW }))[0]').received,
        2,
      );
      assert.deepEqual(
        srv.requests.slice(0, 3).map((r) => r.url),
        ['/taxii2/', '/root/', '/root/collections/'],
      );
    } finally {
      await srv.close();
    }
  });

  it('refuses unknown, unreadable collections and unlisted API roots', async () => {
    const srv = await startTaxiiServer(indicators(1));
    try {
      for (const [opts, re] of [
        [{ collections: ['nope'] }, /collection "nope" is not in the API root/],
        [{ collections: ['Write only'] }, /collection "Write only" is not readable with these credentials/],
        [{ api_root: 'other' }, /api_root "other" is not listed by the server \(it lists: root\)/],
      ] as const) {
        const h = makeSource({ url: `${srv.url}/taxii2/`, ...opts });
        await assert.rejects(
          collectPages(h, { now: NOW }),
          (e: unknown) => e instanceof StixgateError && e.code === 'STIXGATE_ERR_CONFIG_INVALID' && re.test(e.message),
        );
      }
    } finally {
      await srv.close();
    }
  });

  it('full_resync reads everything once, then polls incrementally again', async () => {
    const srv = await startTaxiiServer(indicators(5));
    try {
      const h = makeSource({ url: `${srv.url}/root/`, overlap_secs: 0, full_resync: true });
      const old = `{"v":1,"collections":{"${COLLECTION_ID}":"2026-02-01T00:00:03.000000Z"}}`;
      const once = await collectPages(h, { now: NOW, cursor: old });
      assert.equal(must(once[0], 'once[0]').received, 5);
      assert.equal(
        must(once[0], 'once[0]').cursor,
        `{"v":1,"collections":{"${COLLECTION_ID}":"2026-02-01T00:00:04.000000Z"},"resync":true}`,
      );
      const after = await collectPages(h, { now: NOW, cursor: must(once[0], 'once[0]').cursor });
      assert.equal(must(after[0], 'after[0]').received, 0);
      // without full_resync the flag is dropped, and the position kept
      const plain = makeSource({ url: `${srv.url}/root/`, overlap_secs: 0 });
      const p = await collectPages(plain, { now: NOW, cursor: must(once[0], 'once[0]').cursor });
      assert.equal(
        must(p[0], 'p[0]').cursor,
        `{"v":1,"collections":{"${COLLECTION_ID}":"2026-02-01T00:00:04.000000Z"}}`,
      );
      // --full ignores the cursor for one run
      const full = await collectPages(plain, { now: NOW, cursor: must(once[0], 'once[0]').cursor, full: true });
      assert.equal(must(full[0], 'full[0]').received, 5);
    } finally {
      await srv.close();
    }
  });

  it('stops at max_pages_per_run; the next run continues from the committed cursor', async () => {
    const srv = await startTaxiiServer(indicators(50));
    try {
      const h = makeSource({ url: `${srv.url}/root/`, page_size: 10, max_pages_per_run: 2, overlap_secs: 0 });
      const a = await collectPages(h, { now: NOW });
      assert.deepEqual(
        a.map((p) => p.received),
        [10, 10],
      );
      assert.equal(h.logs.filter((l) => l.reason === 'taxii_max_pages').length, 1);
      const b = await collectPages(h, { now: NOW, cursor: must(a[1], 'a[1]').cursor });
      assert.equal(
        must(must(b[0], 'b[0]').items[0], 'b[0].items[0]').object.id,
        'indicator--00000000-0000-4000-8000-000000000014',
      );
    } finally {
      await srv.close();
    }
  });

  it('validates auth: one shape at a time, both halves present, secrets declared', () => {
    assert.throws(
      () =>
        makeSource({
          url: 'http://127.0.0.1:1/taxii2/',
          auth: { username: 'u', password: 'p', header: 'X-Key', api_key: 'k' },
        }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /sources\.t\.auth \(line 1, column \d+\): use either username\/password or header\/api_key, not both/.test(
          e.message,
        ),
    );
    assert.throws(
      () => makeSource({ url: 'http://127.0.0.1:1/taxii2/', auth: { username: 'u' } }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /sources\.t\.auth\.password( \(line[^)]*\))?: is required with username/.test(e.message),
    );
    assert.throws(
      () => makeSource({ url: 'http://127.0.0.1:1/taxii2/', auth: { header: 'Host', api_key: 'k' } }),
      (e: unknown) => e instanceof ConfigError && /"Host" cannot carry an API key/.test(e.message),
    );
    assert.deepEqual(makeSource({ url: 'http://127.0.0.1:1/taxii2/' }).comp.def.secretPaths, [
      'auth.password',
      'auth.api_key',
    ]);
  });
});
