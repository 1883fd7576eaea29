import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accessPolicy } from '../../src/access/policy.js';
import { indicatorIdForPattern } from '../../src/core/ids.js';
import type { StixObject } from '../../src/core/stix.js';
import { buildIndex } from '../../src/lookup/index.js';
import { NO_DECAY_SCORING } from '../../src/score/model.js';
import { parseFilter } from '../../src/search/filter.js';
import { searchPage } from '../../src/search/pages.js';
import { type buildServer, hashApiKey } from '../../src/server/index.js';
import type { IngestItem, Store } from '../../src/store/contract.js';
import { DAY, T0, indicatorFor, ipFor } from '../store/fixtures.js';
import { bearer, serverConfig, quietServer } from './helpers.js';
import { must } from '../helpers/must.js';

const ACCESS = accessPolicy({ defaultTlp: 'amber', scoring: NO_DECAY_SCORING });
const GREEN = 'k-search-green-0a1b2c3d4e5f6a7b';
const RED = 'k-search-red-9f8e7d6c5b4a3f2e';
const iso = (t: number) => new Date(t).toISOString();

const item = (
  object: StixObject,
  source: string,
  tlp: IngestItem['tlp'],
  confidence: number,
  labels?: string[],
): IngestItem => ({ object: labels ? { ...object, labels } : object, source, tlp, confidence });

/** 1-20 feed-a green, 21-30 feed-b red, 31 both (feed-a clear), 32 revoked, 33 expired, a malware, a v6 indicator, a CIDR SCO. */
function fixture(): IngestItem[] {
  const items: IngestItem[] = [];
  for (let n = 1; n <= 20; n++)
    items.push(item(indicatorFor(n, { modified: T0 + n * 1000 }), 'feed-a', 'green', 40, ['scanner']));
  for (let n = 21; n <= 30; n++)
    items.push(item(indicatorFor(n, { modified: T0 + n * 1000 }), 'feed-b', 'red', 90, ['c2']));
  items.push(
    item(indicatorFor(31), 'feed-a', 'clear', 40, ['scanner']),
    item(indicatorFor(31), 'feed-b', 'red', 90, ['c2']),
  );
  items.push(item({ ...indicatorFor(32), revoked: true }, 'feed-a', 'green', 40));
  items.push(item(indicatorFor(33, { validUntil: T0 - DAY }), 'feed-a', 'green', 40));
  items.push(
    item(
      {
        type: 'malware',
        spec_version: '2.1',
        id: 'malware--6b5a4f3e-2d1c-4b0a-8f9e-8d7c6b5a4f3e',
        created: iso(T0),
        modified: iso(T0),
        name: 'Emotet',
        is_family: true,
      },
      'feed-a',
      'green',
      40,
    ),
  );
  const v6 = "[ipv6-addr:value = '2001:db8::1']";
  items.push(
    item(
      {
        type: 'indicator',
        spec_version: '2.1',
        id: indicatorIdForPattern(v6),
        created: iso(T0),
        modified: iso(T0),
        pattern: v6,
        pattern_type: 'stix',
        valid_from: iso(T0),
      },
      'feed-a',
      'green',
      40,
    ),
  );
  items.push(
    item(
      {
        type: 'ipv4-addr',
        spec_version: '2.1',
        id: 'ipv4-addr--0f1e2d3c-4b5a-5968-8776-a5b4c3d2e1f0',
        value: '10.0.0.0/30',
      },
      'feed-a',
      'green',
      40,
    ),
  );
  return items;
}

/**
 * The search routes over a store: run unchanged on the embedded store (npm test, below) and on a
 * real OpenSearch node (test/integration/opensearch-search.itest.ts).
 */
export function searchSuite(
  name: string,
  open: () => Promise<{ store: Store; cleanup: () => Promise<void> }>,
  opts: { skip?: string | false } = {},
): void {
  describe(`GET /api/v1/objects and /api/v1/objects/:id on the ${name} store`, { skip: opts.skip }, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let app: ReturnType<typeof buildServer>;
    const get = async (url: string, key = GREEN) => {
      const res = await app.inject({ method: 'GET', url, headers: bearer(key) });
      return {
        status: res.statusCode,
        body: res.json() as {
          objects: StixObject[];
          next?: string;
          error?: { code: string; message: string };
        } & Record<string, unknown>,
      };
    };
    const ids = async (query: string, key = GREEN) => {
      const r = await get(`/api/v1/objects?limit=1000&${query}`, key);
      assert.equal(r.status, 200, `${query}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.next, undefined, `${query}: one page`);
      return r.body.objects.map((o) => o.id);
    };
    const ind = (...ns: number[]) => ns.map((n) => indicatorFor(n).id);
    const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

    before(async () => {
      ({ store, cleanup } = await open());
      await store.upsert(fixture(), { now: T0 });
      await store.expire(T0);
      const { index } = await buildIndex(store, { now: () => T0, access: ACCESS });
      const config = serverConfig({
        api_keys: {
          green: { hash: hashApiKey(GREEN), scopes: ['search'], max_tlp: 'green' },
          red: { hash: hashApiKey(RED), scopes: ['search'], max_tlp: 'red' },
        },
      });
      app = quietServer({
        config,
        index,
        store,
        now: () => T0,
        access: ACCESS,
      });
    });
    after(async () => {
      await app?.close();
      await cleanup?.();
    });

    it("filters by type, value (canonicalised), CIDR containment, source, label and state, on the reader's view", async () => {
      assert.deepEqual(await ids('type=malware'), ['malware--6b5a4f3e-2d1c-4b0a-8f9e-8d7c6b5a4f3e']);
      assert.deepEqual(await ids(`value=${encodeURIComponent('10.0.0[.]5')}`), ind(5));
      assert.deepEqual(await ids('type=indicator,ipv4-addr&cidr=10.0.0.0/28'), [
        ...ind(...range(1, 15)),
        'ipv4-addr--0f1e2d3c-4b5a-5968-8776-a5b4c3d2e1f0',
      ]);
      assert.deepEqual(
        await ids('cidr=10.0.0.0/29&type=ipv4-addr'),
        ['ipv4-addr--0f1e2d3c-4b5a-5968-8776-a5b4c3d2e1f0'],
        'a /30 inside a /29',
      );
      assert.deepEqual(await ids('cidr=10.0.0.2/31&type=ipv4-addr'), [], 'a /30 is not inside a /31');
      assert.deepEqual(await ids(`cidr=${encodeURIComponent('2001:db8::/32')}`), [
        indicatorIdForPattern("[ipv6-addr:value = '2001:db8::1']"),
      ]);
      // feed-b is red: the green key never matches on it, the red key does
      assert.deepEqual(await ids('source=feed-b'), []);
      assert.deepEqual(await ids('source=feed-b', RED), ind(...range(21, 31)));
      assert.deepEqual(await ids('label=c2'), []);
      assert.deepEqual(await ids('label=c2', RED), ind(...range(21, 31)));
      assert.deepEqual(await ids('type=indicator&state=revoked'), ind(32));
      assert.deepEqual(await ids('type=indicator&state=expired'), ind(33));
      assert.equal((await ids('type=indicator')).length, 22, '1-20, 31 and the v6 one: active only by default');
      assert.equal((await ids('type=indicator&state=active,expired,revoked')).length, 24);
    });

    it('filters by score range, TLP and modified since, each compared with the view the reader gets', async () => {
      const all = (await get('/api/v1/objects?limit=1000&type=indicator', RED)).body.objects;
      const scores = new Map(all.map((o) => [o.id, must(o.x_stixgate, 'o.x_stixgate').score as number]));
      assert.ok(new Set(scores.values()).size >= 2, 'the fixture has different scores');
      const cut = must(
        [...scores.values()].sort((a, b) => a - b)[Math.floor(scores.size / 2)],
        '[...scores.values()].sort((a, b) => a - b)[Math.floor(sco...',
      );
      assert.deepEqual(
        await ids(`type=indicator&min_score=${cut}`, RED),
        all.filter((o) => must(scores.get(o.id), 'scores.get(o.id)') >= cut).map((o) => o.id),
      );
      assert.deepEqual(
        await ids(`type=indicator&max_score=${cut - 1}`, RED),
        all.filter((o) => must(scores.get(o.id), 'scores.get(o.id)') < cut).map((o) => o.id),
      );
      // 31 is clear + red: the green key sees it as clear, the red key as red
      assert.deepEqual(await ids('type=indicator&tlp=clear'), ind(31));
      assert.deepEqual(await ids('type=indicator&tlp=red', RED), ind(...range(21, 31)));
      assert.deepEqual(await ids(`type=indicator&modified_since=${iso(T0 + 18_000)}`), ind(18, 19, 20));
      assert.deepEqual(
        await ids(`type=indicator&modified_since=${iso(T0 + 18_000)}`, RED),
        ind(18, 19, 20, ...range(21, 30)),
      );
    });

    it('refuses bad filters, limits and cursors with a 400 that echoes nothing', async () => {
      for (const [q, msg] of [
        ['limit=1001', 'limit'],
        ['tlp=purple', 'tlp'],
        ['state=gone', 'state'],
        ['cidr=10.0.0.0/33', 'cidr must be'],
        ['value=%20', 'value is not'],
        ['modified_since=yesterday', 'modified_since must be'],
        ['min_score=90&max_score=10', 'min_score is above'],
        ['colour=red', 'must NOT have additional'],
        ['cursor=abc.def', 'invalid cursor'],
      ] as const) {
        const r = await get(`/api/v1/objects?${q}`);
        assert.equal(r.status, 400, q);
        assert.equal(must(r.body.error, 'r.body.error').code, 'STIXGATE_ERR_API_BAD_REQUEST', q);
        assert.ok(
          must(r.body.error, 'r.body.error').message.includes(msg),
          `${q}: ${must(r.body.error, 'r.body.error').message}`,
        );
      }
    });

    it('pages with opaque cursors bound to the filter and the reader; a changed cursor is refused', async () => {
      const first = await get('/api/v1/objects?type=indicator&limit=5');
      assert.equal(first.body.objects.length, 5);
      const next = must(first.body.next, 'first.body.next');
      assert.ok(next && !next.includes('r5'), 'opaque');
      const second = await get(`/api/v1/objects?type=indicator&limit=5&cursor=${next}`);
      assert.deepEqual(
        second.body.objects.map((o) => o.id),
        ind(6, 7, 8, 9, 10),
      );
      const tampered = next.slice(0, 2) + (next[2] === 'A' ? 'B' : 'A') + next.slice(3);
      for (const [url, key] of [
        [`/api/v1/objects?type=indicator&limit=5&cursor=${tampered}`, GREEN],
        [`/api/v1/objects?type=malware&limit=5&cursor=${next}`, GREEN],
        [`/api/v1/objects?type=indicator&limit=5&cursor=${next}`, RED],
      ] as const) {
        const r = await get(url, key);
        assert.deepEqual(
          [r.status, r.body.error?.message],
          [400, 'invalid cursor: not one this server issued for these filters'],
          url,
        );
      }
    });

    it('paging while the store changes returns every object that existed once and never one twice', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let n = 100;
      do {
        const r = await get(`/api/v1/objects?type=indicator&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...r.body.objects.map((o) => o.id));
        cursor = r.body.next;
        // between pages: update an object already returned and one not yet returned, add new ones
        const returned = indicatorFor(1, { modified: T0 + 500_000 + n });
        const pending = indicatorFor(20, { modified: T0 + 500_000 + n });
        await store.upsert(
          [
            item(returned, 'feed-a', 'green', 40),
            item(pending, 'feed-a', 'green', 40),
            item(indicatorFor(n++), 'feed-a', 'green', 40),
          ],
          { now: T0 + 1000 },
        );
      } while (cursor);
      assert.equal(new Set(seen).size, seen.length, 'no object twice');
      for (const id of [...ind(...range(1, 20)), ...ind(31)]) assert.ok(seen.includes(id), `${id} returned`);
    });

    it('a selective filter answers after a bounded scan, with a cursor, and paging on finds everything', async () => {
      const filter = parseFilter({ type: 'indicator', value: ipFor(29) });
      assert.ok(filter.ok);
      // the value filter goes to the store index: one object read
      const direct = await searchPage(store, filter.filter, { ceiling: 'red', policy: ACCESS }, { limit: 10 });
      assert.deepEqual([direct.objects.map((o) => o.id), direct.scanned], [ind(29), 1]);
      const label = parseFilter({ label: 'c2' });
      assert.ok(label.ok);
      const found: string[] = [];
      let after: string | undefined;
      let pages = 0;
      do {
        const p = await searchPage(
          store,
          label.filter,
          { ceiling: 'red', policy: ACCESS },
          { limit: 100, after, budget: 7 },
        );
        assert.ok(p.scanned <= 7, `scanned ${p.scanned}`);
        found.push(...p.objects.map((o) => o.id));
        after = p.next;
        pages++;
      } while (after);
      assert.deepEqual(found, ind(...range(21, 31)));
      assert.ok(pages >= 5, `${pages} pages of at most 7 objects read`);
    });

    it('GET /api/v1/objects/:id: the view with its provenance as the reader may see it; an invisible object is a 404 as an unknown one', async () => {
      const both = await get(`/api/v1/objects/${indicatorFor(31).id}`, RED);
      assert.equal(both.status, 200);
      assert.deepEqual(
        (both.body.provenance as { source: string; tlp: string; labels: string[]; confidence: number }[]).map((p) => [
          p.source,
          p.tlp,
          p.labels,
          p.confidence,
        ]),
        [
          ['feed-a', 'clear', ['scanner'], 40],
          ['feed-b', 'red', ['c2'], 90],
        ],
      );
      const one = await get(`/api/v1/objects/${indicatorFor(31).id}`);
      assert.deepEqual(
        (one.body.provenance as { source: string }[]).map((p) => p.source),
        ['feed-a'],
      );
      assert.deepEqual(
        Object.keys(
          must((one.body.object as StixObject).x_stixgate, '(one.body.object as StixObject).x_stixgate').sources,
        ),
        ['feed-a'],
      );
      assert.equal(JSON.stringify(one.body).includes('feed-b'), false);
      const hidden = await app.inject({ url: `/api/v1/objects/${indicatorFor(25).id}`, headers: bearer(GREEN) });
      const unknown = await app.inject({ url: `/api/v1/objects/${indicatorFor(999).id}`, headers: bearer(GREEN) });
      assert.deepEqual([hidden.statusCode, hidden.body], [404, unknown.body]);
    });
  });
}
