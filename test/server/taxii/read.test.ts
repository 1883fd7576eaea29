import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canSee } from '../../../src/access/policy.js';
import { viewOf } from '../../../src/access/view.js';
import { TLP_MARKING_BY_LEVEL, type StixObject } from '../../../src/core/stix.js';
import { ACCESS, DEFAULT_COLLECTIONS, TAXII, TAXII_KEYS, T0, ipIndicators, taxiiRig, type Rig } from './rig.js';
import { must } from '../../helpers/must.js';

const ROOT = '/taxii2/default';
const SHARED = `${ROOT}/collections/${DEFAULT_COLLECTIONS.shared.id}`;

/** Every page of a collection's objects (or manifest) through `next`, with each page's headers. */
async function walk(rig: Rig, url: string, key?: string, limit = 7) {
  const pages: { objects: StixObject[]; first?: string; last?: string; more: boolean }[] = [];
  let next: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (next) q.set('next', next);
    const r = await rig.get(`${url}?${q}`, key);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.headers['content-type'], TAXII);
    pages.push({
      objects: r.body.objects ?? [],
      first: r.headers['x-taxii-date-added-first'] as string,
      last: r.headers['x-taxii-date-added-last'] as string,
      more: r.body.more,
    });
    if (!r.body.more) return pages;
    next = r.body.next;
  }
  throw new Error('paging did not end');
}

/** The store's view at `ceiling` in change-log order: what a collection serves. */
async function storeView(rig: Rig, ceiling: 'clear' | 'green' | 'amber'): Promise<StixObject[]> {
  const { changes } = await rig.store.changes(0, 100_000);
  return changes
    .filter((c) => canSee(c.object, ceiling, ACCESS))
    .map((c) => must(viewOf(c.object, ceiling, ACCESS), 'viewOf(c.object, ceiling, ACCESS)'));
}

async function seeded(t: Parameters<typeof taxiiRig>[0]) {
  const rig = await taxiiRig(t);
  await rig.ingest('feed-clear', ipIndicators(23, '45.133', TLP_MARKING_BY_LEVEL.clear));
  await rig.ingest('feed-green', ipIndicators(11, '91.92', TLP_MARKING_BY_LEVEL.green));
  await rig.ingest('feed-amber', ipIndicators(9, '185.220', undefined));
  // one value from two feeds at two levels
  await rig.ingest('feed-amber', ipIndicators(1, '45.133', TLP_MARKING_BY_LEVEL.amber, 5));
  return rig;
}

describe('TAXII 2.1 server: read side', () => {
  it('discovery, API root, collections: URLs from the configuration, rights per reader', async (t) => {
    const rig = await seeded(t);
    const d = await rig.get('/taxii2/');
    assert.equal(d.status, 200);
    assert.deepEqual(d.body, {
      title: 'stixgate TAXII 2.1',
      api_roots: ['/taxii2/default/'],
      default: '/taxii2/default/',
    });
    // the Host header never makes a URL (FAULTS A14)
    assert.deepEqual(
      (await rig.get('/taxii2/', undefined, { host: 'evil.example', 'x-forwarded-host': 'evil.example' })).body
        .api_roots,
      ['/taxii2/default/'],
    );
    const root = await rig.get(`${ROOT}/`);
    assert.deepEqual(root.body, { title: 'default', versions: [TAXII], max_content_length: 1024 * 1024 });
    const anon = await rig.get(`${ROOT}/collections/`);
    assert.deepEqual(
      anon.body.collections.map((c: any) => [c.title, c.can_read, c.can_write]),
      [['public', true, false]],
    );
    const writer = await rig.get(`${ROOT}/collections/`, TAXII_KEYS.writer);
    assert.deepEqual(
      writer.body.collections.map((c: any) => [c.title, c.can_read, c.can_write]),
      [
        ['public', true, false],
        ['Shared', true, false],
        ['inbox', true, true],
      ],
    );
    const green = await rig.get(`${ROOT}/collections/`, TAXII_KEYS.green);
    assert.deepEqual(
      green.body.collections.map((c: any) => c.title),
      ['public', 'Shared'],
    );
    assert.deepEqual(
      (await rig.get(`${ROOT}/collections/${DEFAULT_COLLECTIONS.inbox.id}/`, TAXII_KEYS.green)).status,
      404,
    );
    const one = await rig.get(`${SHARED}/`, TAXII_KEYS.green);
    assert.deepEqual(one.body, {
      id: DEFAULT_COLLECTIONS.shared.id,
      title: 'Shared',
      can_read: true,
      can_write: false,
      media_types: ['application/stix+json;version=2.1'],
    });
    assert.equal((await rig.get('/taxii2/nope/')).status, 401, 'no key: no answer about what exists');
    assert.equal((await rig.get('/taxii2/nope/', TAXII_KEYS.amber)).status, 404);
    assert.equal((await rig.get(`${SHARED}/`)).status, 401);
    assert.equal((await rig.get(`${SHARED}/`)).headers['www-authenticate'], 'Bearer realm="stixgate"');
    assert.equal((await rig.get(`${SHARED}/`, TAXII_KEYS.lookup)).status, 403);
  });

  it("objects in small pages reproduce the store's view at each reader's ceiling: no gap, no repeat, date_added ascending", async (t) => {
    const rig = await seeded(t);
    for (const [key, ceiling, url] of [
      [undefined, 'clear', null],
      [TAXII_KEYS.green, 'green', SHARED],
      [TAXII_KEYS.amber, 'amber', SHARED],
    ] as const) {
      const publicUrl = (await rig.get(`${ROOT}/collections/`)).body.collections[0].id;
      const pages = await walk(rig, `${url ?? `${ROOT}/collections/${publicUrl}`}/objects/`, key);
      const got = pages.flatMap((p) => p.objects);
      const want = await storeView(rig, ceiling);
      assert.deepEqual(got, want, `${ceiling}: the view, in change-log order`);
      assert.equal(new Set(got.map((o) => o.id)).size, got.length, 'no repeats');
      const dates = pages
        .filter((p) => p.objects.length)
        .flatMap((p) => [must(p.first, 'p.first'), must(p.last, 'p.last')]);
      assert.deepEqual([...dates].sort(), dates, 'date_added ascending across pages');
      assert.equal(
        new Set(dates).size,
        dates.length - pages.filter((p) => p.objects.length === 1).length,
        'each date_added its own',
      );
    }
    assert.equal((await storeView(rig, 'clear')).length, 23);
    assert.equal((await storeView(rig, 'green')).length, 34);
    assert.equal((await storeView(rig, 'amber')).length, 43);
  });

  it('added_after resumes exactly after X-TAXII-Date-Added-Last while writes happen; the manifest dates the same objects', async (t) => {
    const rig = await seeded(t);
    const url = `${SHARED}/objects/`;
    const first = await rig.get(`${url}?limit=20`, TAXII_KEYS.amber);
    const last = first.headers['x-taxii-date-added-last'] as string;
    // writes after the first page: one object of it updated, new objects added
    rig.setNow(T0 + 5000);
    const updated = {
      ...must(
        ipIndicators(3, '45.133', TLP_MARKING_BY_LEVEL.clear)[2],
        "ipIndicators(3, '45.133', TLP_MARKING_BY_LEVEL.clear)[2]",
      ),
      modified: new Date(T0).toISOString(),
      name: 'renamed',
    };
    await rig.ingest('feed-clear', [updated, ...ipIndicators(3, '45.134', TLP_MARKING_BY_LEVEL.clear)]);
    assert.ok(
      first.body.objects.some((o: StixObject) => o.id === updated.id),
      'the updated object was on the first page',
    );
    const rest = await rig.get(`${url}?added_after=${last}&limit=50`, TAXII_KEYS.amber);
    const seen = [...first.body.objects, ...rest.body.objects].map((o: StixObject) => o.id);
    const all = (await storeView(rig, 'amber')).map((o) => o.id);
    assert.deepEqual(new Set(seen), new Set(all), 'nothing missed');
    assert.deepEqual(
      rest.body.objects.slice(-4).map((o: StixObject) => o.name),
      ['renamed', 'ioc 45.134.0.1', 'ioc 45.134.0.2', 'ioc 45.134.0.3'],
    );
    assert.equal(seen.length, all.length + 1, 'only the updated object twice (its new version)');
    const manifest = await rig.get(`${SHARED}/manifest/?limit=50&added_after=${last}`, TAXII_KEYS.amber);
    assert.deepEqual(
      manifest.body.objects.map((m: any) => m.id),
      rest.body.objects.map((o: StixObject) => o.id),
    );
    assert.equal(manifest.body.objects.at(-1).date_added, rest.headers['x-taxii-date-added-last']);
    assert.deepEqual(manifest.body.objects[0], {
      id: rest.body.objects[0].id,
      date_added: rest.headers['x-taxii-date-added-first'],
      version: rest.body.objects[0].modified,
      media_type: 'application/stix+json;version=2.1',
    });
    // nothing after the last
    const none = await rig.get(`${url}?added_after=${rest.headers['x-taxii-date-added-last']}`, TAXII_KEYS.amber);
    assert.deepEqual(none.body, { more: false });
  });

  it('date_added survives a restart; next tokens are bound to key, collection and filters', async (t) => {
    const rig = await seeded(t);
    const a = await rig.get(`${SHARED}/manifest/?limit=50`, TAXII_KEYS.amber);
    const p1 = await rig.get(`${SHARED}/objects/?limit=5&match[type]=indicator`, TAXII_KEYS.amber);
    await rig.restart();
    rig.setNow(T0 + 60_000);
    assert.deepEqual((await rig.get(`${SHARED}/manifest/?limit=50`, TAXII_KEYS.amber)).body, a.body);
    const next = p1.body.next as string;
    assert.equal(
      (
        await rig.get(
          `${SHARED}/objects/?limit=5&match[type]=indicator&next=${encodeURIComponent(next)}`,
          TAXII_KEYS.amber,
        )
      ).status,
      200,
      'a token outlives a restart',
    );
    for (const [url, key] of [
      [`${SHARED}/objects/?match[type]=indicator&next=${encodeURIComponent(next)}`, TAXII_KEYS.green],
      [`${SHARED}/objects/?match[type]=malware&next=${encodeURIComponent(next)}`, TAXII_KEYS.amber],
      [`${SHARED}/manifest/?match[type]=indicator&next=${encodeURIComponent(next)}`, TAXII_KEYS.amber],
      [
        `${SHARED}/objects/?match[type]=indicator&next=${encodeURIComponent(next.replace(/^./, (c) => (c === 'e' ? 'f' : 'e')))}`,
        TAXII_KEYS.amber,
      ],
      [`${SHARED}/objects/?next=garbage`, TAXII_KEYS.amber],
    ] as const) {
      const r = await rig.get(url, key);
      assert.equal(r.status, 400, url);
      assert.deepEqual(r.body, {
        title: 'Bad Request',
        description: 'next is not a token this server issued for this key, collection and filters',
        error_code: 'STIXGATE_ERR_API_BAD_REQUEST',
        http_status: '400',
      });
      assert.equal(r.headers['content-type'], TAXII);
    }
  });

  it('match filters, single object, versions; an object the reader cannot see is an unknown one', async (t) => {
    const rig = await seeded(t);
    const all = await storeView(rig, 'amber');
    const greenOnly = must(
      all.find((o) => o.name === 'ioc 91.92.0.1'),
      "all.find((o) => o.name === 'ioc 91.92.0.1')",
    );
    const ids = `${must(all[0], 'all[0]').id},${greenOnly.id}`;
    const m = await rig.get(`${SHARED}/objects/?match[id]=${ids}`, TAXII_KEYS.amber);
    assert.deepEqual(
      m.body.objects.map((o: StixObject) => o.id),
      [must(all[0], 'all[0]').id, greenOnly.id],
    );
    assert.deepEqual((await rig.get(`${SHARED}/objects/?match[type]=malware`, TAXII_KEYS.amber)).body, { more: false });
    assert.equal(
      (await rig.get(`${SHARED}/objects/?match[spec_version]=2.0`, TAXII_KEYS.amber)).body.objects,
      undefined,
    );
    assert.equal(
      (await rig.get(`${SHARED}/objects/?match[version]=all&limit=50`, TAXII_KEYS.amber)).body.objects.length,
      43,
    );
    assert.equal(
      (await rig.get(`${SHARED}/objects/?match[version]=${greenOnly.modified}&limit=50`, TAXII_KEYS.amber)).body.objects
        .length,
      42,
    );
    assert.equal((await rig.get(`${SHARED}/objects/?match[version]=nope`, TAXII_KEYS.amber)).status, 400);
    const one = await rig.get(`${SHARED}/objects/${greenOnly.id}/`, TAXII_KEYS.green);
    assert.deepEqual(one.body, { more: false, objects: [greenOnly] });
    assert.deepEqual((await rig.get(`${SHARED}/objects/${greenOnly.id}/versions/`, TAXII_KEYS.green)).body, {
      more: false,
      versions: [greenOnly.modified],
    });
    const publicId = (await rig.get(`${ROOT}/collections/`)).body.collections[0].id;
    const hidden = await rig.get(`${ROOT}/collections/${publicId}/objects/${greenOnly.id}/`);
    const unknown = await rig.get(
      `${ROOT}/collections/${publicId}/objects/indicator--00000000-0000-4000-8000-000000000000/`,
    );
    assert.equal(hidden.status, 404);
    assert.deepEqual(hidden.body, unknown.body);
  });

  it('single object and versions: X-TAXII-Date-Added-First/Last are the date_added the manifest gives; added_after filters; a change moves them', async (t) => {
    const rig = await seeded(t);
    const manifest = await rig.get(`${SHARED}/manifest/?limit=50`, TAXII_KEYS.amber);
    const entry = manifest.body.objects[3] as { id: string; date_added: string; version: string };
    const next = manifest.body.objects[4] as { date_added: string };
    for (const path of ['', 'versions/']) {
      const r = await rig.get(`${SHARED}/objects/${entry.id}/${path}`, TAXII_KEYS.amber);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers['x-taxii-date-added-first'], entry.date_added, path);
      assert.equal(r.headers['x-taxii-date-added-last'], entry.date_added, path);
      // added_after as on a page: the object only when it was added after the given time
      const before = new Date(Date.parse(entry.date_added) - 1).toISOString();
      assert.equal(
        (await rig.get(`${SHARED}/objects/${entry.id}/${path}?added_after=${before}`, TAXII_KEYS.amber)).status,
        200,
        path,
      );
      const same = await rig.get(
        `${SHARED}/objects/${entry.id}/${path}?added_after=${entry.date_added}`,
        TAXII_KEYS.amber,
      );
      assert.equal(same.status, 404, path);
      assert.equal(same.headers['x-taxii-date-added-first'], undefined);
      assert.equal(
        (await rig.get(`${SHARED}/objects/${entry.id}/${path}?added_after=nope`, TAXII_KEYS.amber)).status,
        400,
        path,
      );
    }
    assert.deepEqual((await rig.get(`${SHARED}/objects/${entry.id}/versions/`, TAXII_KEYS.amber)).body, {
      more: false,
      versions: [entry.version],
    });
    assert.ok(entry.date_added < next.date_added);
    // the object changes (a newer version from its feed): its date_added is that of its new place in the log, after every earlier one
    const changed = (await rig.get(`${SHARED}/objects/${entry.id}/`, TAXII_KEYS.amber)).body.objects[0] as StixObject;
    rig.setNow(T0 + 3600_000);
    await rig.ingest('feed-clear', [
      {
        ...changed,
        x_stixgate: undefined,
        modified: new Date(T0 + 3600_000).toISOString(),
        name: 'renamed',
      } as unknown as StixObject,
    ]);
    const after = await rig.get(`${SHARED}/objects/${entry.id}/`, TAXII_KEYS.amber);
    assert.equal(after.body.objects[0].name, 'renamed');
    const moved = after.headers['x-taxii-date-added-last'] as string;
    assert.ok(
      moved > (manifest.body.objects.at(-1) as { date_added: string }).date_added,
      `${moved} after the last date served before`,
    );
    const last = await rig.get(
      `${SHARED}/manifest/?added_after=${manifest.body.objects.at(-1).date_added}`,
      TAXII_KEYS.amber,
    );
    assert.deepEqual(
      last.body.objects.map((o: { id: string; date_added: string }) => [o.id, o.date_added]),
      [[entry.id, moved]],
      'the manifest dates the change the same',
    );
  });

  it('media types and limits: 406 without the TAXII type in Accept, 400 over max_page_size, TAXII error bodies', async (t) => {
    const rig = await seeded(t);
    const url = `${SHARED}/objects/`;
    for (const accept of [
      'application/taxii+json;version=2.1',
      'application/taxii+json',
      '*/*',
      'application/*',
      'text/html, application/taxii+json;version=2.1;q=0.5',
    ]) {
      assert.equal((await rig.get(url, TAXII_KEYS.amber, { accept })).status, 200, accept);
    }
    for (const accept of [
      'application/json',
      'application/taxii+json;version=2.0',
      'text/html',
      'application/taxii+json;q=0',
    ]) {
      const r = await rig.get(url, TAXII_KEYS.amber, { accept });
      assert.equal(r.status, 406, accept);
      assert.equal(r.body.error_code, 'STIXGATE_ERR_API_NOT_ACCEPTABLE');
    }
    const big = await rig.get(`${url}?limit=51`, TAXII_KEYS.amber);
    assert.equal(big.status, 400);
    assert.equal(big.body.description, 'limit 51 is above the largest page this server sends (taxii.max_page_size 50)');
    assert.equal((await rig.get(`${url}?added_after=yesterday`, TAXII_KEYS.amber)).status, 400);
    assert.equal((await rig.get(`${url}?unknown=1`, TAXII_KEYS.amber)).status, 400);
  });
});
