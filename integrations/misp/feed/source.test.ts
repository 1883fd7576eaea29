import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { listenLoopback } from '../../loopback-server.js';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusPath, PROJECT_ROOT } from '../../../test/helpers/corpus.js';
import { observableScoId } from '../../../src/core/ids.js';
import { normaliseObservable } from '../../../src/core/observable.js';
import type { StixObject } from '../../../src/core/stix.js';
import { lastCursor, runPages, FIXED_NOW, serveFeedDir } from '../../../test/helpers/misp-source.js';
import { must } from '../../../test/helpers/must.js';

const feed = corpusPath('chrome-mal-ids-misp-feed/misp-feed');

interface Served {
  server: Server;
  base: string;
  gets: string[];
}

/** Serves a feed folder over loopback; `tamper` files are served with one byte changed. */
async function serve(dir: string, tamper: Set<string> = new Set()): Promise<Served> {
  const gets: string[] = [];
  const { server, base } = await serveFeedDir(dir, {
    onGet: (name) => gets.push(name),
    transform: (name, body) =>
      tamper.has(name) ? Buffer.from(body.toString('utf8').replace('"info"', '"info" ')) : body,
  });
  return { server, base, gets };
}

function expected(dir: string) {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<
    string,
    { timestamp: string }
  >;
  const attrs: { uuid: string; type: string; value: string; to_ids: boolean; event: string }[] = [];
  for (const uuid of Object.keys(manifest)) {
    const ev = JSON.parse(readFileSync(join(dir, `${uuid}.json`), 'utf8')).Event;
    for (const a of ev.Attribute)
      attrs.push({ uuid: a.uuid, type: a.type, value: a.value, to_ids: a.to_ids, event: uuid });
  }
  return { manifest, attrs };
}

const AFTER_FEED = Date.UTC(2026, 6, 1); // the feed's manifest timestamps are 2026-05-29

test('misp_feed ingests the complete chrome-mal-ids feed over loopback HTTP', { skip: feed.skip }, async () => {
  const { manifest, attrs } = expected(feed.path);
  assert.equal(Object.keys(manifest).length, 79);
  assert.equal(attrs.length, 5188);
  const s = await serve(feed.path);
  try {
    const pages = await runPages('misp_feed', { url: s.base }, undefined, AFTER_FEED);
    const objects = pages.flatMap((p) => p.items.map((i) => i.object));
    const byId = new Map<string, StixObject>(objects.map((o) => [o.id, o]));
    assert.equal(
      pages.reduce((n, p) => n + p.received, 0),
      5188,
    );
    assert.deepEqual(
      pages.flatMap((p) => p.rejections),
      [],
    );
    // every event is a report referencing what it contains
    const reports = objects.filter((o) => o.type === 'report');
    assert.deepEqual(
      reports.map((r) => r.id).sort(),
      Object.keys(manifest)
        .map((u) => `report--${u}`)
        .sort(),
    );
    // text attributes (no observable) are kept as x-misp-attribute objects under their MISP uuid
    const text = attrs.filter((a) => a.type === 'text');
    assert.equal(text.length, 2525);
    for (const a of text) assert.equal(byId.get(`x-misp-attribute--${a.uuid}`)?.x_misp_value, a.value);
    // url attributes have to_ids false: URL observables, no indicators
    const urls = attrs.filter((a) => a.type === 'url');
    assert.equal(urls.length, 2663);
    assert.ok(urls.every((a) => !a.to_ids));
    assert.equal(objects.filter((o) => o.type === 'indicator').length, 0);
    for (const a of urls) {
      const n = normaliseObservable('url', a.value);
      assert.ok(n.ok);
      const id = observableScoId(n.observable);
      assert.ok(byId.has(id), a.value);
      const report = must(byId.get(`report--${a.event}`), 'byId.get(`report--${a.event}`)');
      assert.ok((report.object_refs as string[]).includes(id));
      assert.ok((report.object_refs as string[]).includes(`identity--5e2e6e1a-4f8c-4b2a-9c1d-3a7f8e9b0c2d`));
    }
    // tlp:white on every event → the TLP 2.0 CLEAR marking
    assert.ok(
      reports.every(
        (r) => (r.object_marking_refs as string[])[0] === 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
      ),
    );
    const cursor = JSON.parse(must(lastCursor(pages), 'lastCursor(pages)'));
    assert.equal(cursor.manifest_ts, 1780091866);
    assert.equal(cursor.at.length, 79);
    // a second poll reads the manifest (and hashes.csv) only
    s.gets.length = 0;
    const again = await runPages('misp_feed', { url: s.base }, lastCursor(pages), AFTER_FEED);
    assert.equal(again.length, 0);
    assert.deepEqual(s.gets.sort(), ['hashes.csv', 'manifest.json']);
  } finally {
    s.server.close();
  }
});

test('misp_feed: manifest timestamps ahead of now never move the cursor (F26); hashes.csv mismatches are rejected', {
  skip: feed.skip,
}, async () => {
  const files = readdirSync(feed.path)
    .filter((f) => f.endsWith('.json') && f !== 'manifest.json')
    .sort();
  const s = await serve(feed.path, new Set([must(files[0], 'files[0]')]));
  try {
    const pages = await runPages('misp_feed', { url: s.base }, undefined, FIXED_NOW);
    const rej = pages.flatMap((p) => p.rejections);
    assert.deepEqual(
      rej.map((r) => [r.reason, r.location?.file]),
      [['hash_mismatch', files[0]]],
    );
    assert.equal(pages.flatMap((p) => p.items).filter((i) => i.object.type === 'report').length, 78);
    assert.deepEqual(JSON.parse(must(lastCursor(pages), 'lastCursor(pages)')), {
      manifest_ts: 0,
      at: [],
      retry: [must(files[0], 'files[0]').slice(0, -5)],
    });
    // so the next run fetches every event again
    s.gets.length = 0;
    await runPages('misp_feed', { url: s.base, verify_hashes: false }, lastCursor(pages), FIXED_NOW);
    assert.equal(s.gets.filter((g) => g.endsWith('.json') && g !== 'manifest.json').length, 79);
  } finally {
    s.server.close();
  }
});

test('issue 18: a MISP event file that starts with a UTF-8 BOM is read like every other format', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-misp-bom-'));
  try {
    const event = readFileSync(join(PROJECT_ROOT, 'test/fixtures/misp/event-all-types.json'));
    const bom = join(dir, 'event.json');
    writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), event]));
    const plain = await runPages('misp_feed', {
      url: `file://${join(PROJECT_ROOT, 'test/fixtures/misp/event-all-types.json')}`,
    });
    const withBom = await runPages('misp_feed', { url: `file://${bom}` });
    const ids = (pages: typeof plain) => pages.flatMap((p) => p.items.map((i) => i.object.id)).sort();
    assert.equal(ids(withBom).length, ids(plain).length);
    assert.deepEqual(ids(withBom), ids(plain));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('misp_feed reads one event file (convert) and a manifest.json URL', { skip: feed.skip }, async () => {
  const pages = await runPages('misp_feed', {
    url: `file://${join(PROJECT_ROOT, 'test/fixtures/misp/event-all-types.json')}`,
  });
  const objects = pages.flatMap((p) => p.items.map((i) => i.object));
  assert.equal(objects.filter((o) => o.type === 'indicator').length, 33);
  assert.equal(objects.filter((o) => o.type === 'report').length, 1);
  assert.equal(lastCursor(pages), undefined);
  assert.deepEqual(
    pages.flatMap((p) => p.rejections).map((r) => r.reason),
    ['invalid_ipv4'],
  );
  const viaManifest = await runPages(
    'misp_feed',
    { url: `file://${join(feed.path, 'manifest.json')}`, max_events: 3 },
    undefined,
    AFTER_FEED,
  );
  assert.equal(viaManifest.flatMap((p) => p.items).filter((i) => i.object.type === 'report').length, 3);
});

test('issue 14: a missing or corrupt event listed in manifest.json is skipped, counted and retried next run; the others are stored', {
  skip: feed.skip,
}, async () => {
  const manifest = JSON.parse(readFileSync(join(feed.path, 'manifest.json'), 'utf8')) as Record<
    string,
    { timestamp: string }
  >;
  const order = Object.entries(manifest)
    .sort((a, b) => Number(a[1].timestamp) - Number(b[1].timestamp) || (a[0] < b[0] ? -1 : 1))
    .map(([u]) => u);
  const missing = `${order[3]}.json`;
  const corrupt = `${order[10]}.json`;
  let broken = true;
  const gets: string[] = [];
  const { server, base } = await serveFeedDir(feed.path, {
    onGet: (name) => gets.push(name),
    transform: (name, body) => (broken && name === corrupt ? body.subarray(0, body.length >> 1) : body),
  });
  // the missing file answers 404 (a front server); the corrupt one is cut in half
  const notFound = createServer((req, res) => {
    const name = (req.url ?? '').replace(/^\/feed\//, '');
    if (broken && name === missing) return void res.writeHead(404).end();
    const up = new URL(name, base);
    fetch(up).then(
      async (r) =>
        res
          .writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' })
          .end(Buffer.from(await r.arrayBuffer())),
      () => res.writeHead(502).end(),
    );
  });
  const front = `${await listenLoopback(notFound)}/feed/`;
  try {
    const pages = await runPages('misp_feed', { url: front, verify_hashes: false }, undefined, AFTER_FEED);
    const rej = pages.flatMap((p) => p.rejections);
    assert.deepEqual(
      rej.map((r) => [r.reason, r.location?.file]),
      [
        ['event_unavailable', missing],
        ['event_corrupt', corrupt],
      ],
    );
    assert.ok(rej.every((r) => r.message.length > 0 && r.location?.source === 't'));
    const reports = pages.flatMap((p) => p.items).filter((i) => i.object.type === 'report');
    assert.equal(reports.length, 77);
    const cursor = JSON.parse(must(lastCursor(pages), 'lastCursor(pages)'));
    // the cursor moved past what was stored and names the two events to fetch again
    assert.equal(cursor.manifest_ts, 1780091866);
    assert.deepEqual([...cursor.retry].sort(), [order[3], order[10]].sort());
    assert.ok(!cursor.at.includes(order[3]) && !cursor.at.includes(order[10]));
    // next run: the feed is repaired; only the two failed events are fetched, and the cursor forgets them
    broken = false;
    gets.length = 0;
    const again = await runPages('misp_feed', { url: front, verify_hashes: false }, lastCursor(pages), AFTER_FEED);
    assert.deepEqual(gets.filter((g) => g !== 'manifest.json').sort(), [missing, corrupt].sort());
    assert.deepEqual(
      again
        .flatMap((p) => p.items)
        .filter((i) => i.object.type === 'report')
        .map((i) => i.object.id)
        .sort(),
      [`report--${order[3]}`, `report--${order[10]}`].sort(),
    );
    assert.deepEqual(JSON.parse(must(lastCursor(again), 'lastCursor(again)')).retry, []);
    assert.equal(JSON.parse(must(lastCursor(again), 'lastCursor(again)')).manifest_ts, 1780091866);
  } finally {
    server.close();
    notFound.close();
  }
});

test('issue 14: a bare attribute file (not an event) converts with a warning instead of an empty bundle', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-misp-bare-'));
  try {
    const attr = {
      uuid: 'c1a2b3c4-d5e6-4f70-8a91-b2c3d4e5f607',
      type: 'ip-dst',
      category: 'Network activity',
      to_ids: true,
      value: '198.51.100.77',
      timestamp: '1770710400',
    };
    const other = {
      uuid: 'd2b3c4d5-e6f7-4a81-9b02-c3d4e5f60718',
      type: 'domain',
      category: 'Network activity',
      to_ids: false,
      value: 'seen.example',
      timestamp: '1770710400',
    };
    const shapes: Record<string, unknown> = {
      single: attr,
      wrapped: { Attribute: attr },
      list: { Attribute: [attr, other] },
      array: [attr, other],
    };
    for (const [name, doc] of Object.entries(shapes)) {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(doc));
      const pages = await runPages('misp_feed', { url: `file://${file}` });
      const objects = pages.flatMap((p) => p.items.map((i) => i.object));
      assert.ok(
        objects.some((o) => o.id === `indicator--${attr.uuid}` && o.pattern === "[ipv4-addr:value = '198.51.100.77']"),
        name,
      );
      assert.equal(
        objects.some((o) => o.id === `observed-data--${other.uuid}`),
        name === 'list' || name === 'array',
        name,
      );
      assert.equal(objects.filter((o) => o.type === 'report').length, 0, name);
      const warnings = pages.flatMap((p) => p.warnings ?? []);
      assert.equal(warnings.length, 1, name);
      assert.match(
        must(warnings[0], 'warnings[0]'),
        new RegExp(
          `${name}\\.json holds ${name === 'list' || name === 'array' ? 2 : 1} MISP attribute\\(s\\), not an event`,
        ),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
