import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { StixObject } from '../../src/core/stix.js';
import { assertValidStix } from '../helpers/validator.js';
import { collectPages, makeSource, runOnce, tempStore } from '../helpers/taxii21-harness.js';
import { parseCursor } from '../../integrations/taxii21/cursor.js';
import { must } from '../helpers/must.js';

/**
 * The taxii21 source against a real OASIS medallion (scripts/medallion.sh, started by
 * scripts/integration.sh): medallion's own test data plus a generated collection of 2,500
 * indicators (25 pages of 100). Every object arrives once, a second poll fetches nothing new, an
 * object POSTed between polls arrives on the next one, and everything emitted passes
 * stix2-validator.
 */

const base = process.env.STIXGATE_TAXII_URL;
const user = process.env.STIXGATE_TAXII_USER ?? '';
const password = process.env.STIXGATE_TAXII_PASSWORD ?? '';
const dataFile = process.env.STIXGATE_TAXII_DATA;
const python = process.env.STIXGATE_PYTHON;
const skip =
  base && dataFile
    ? false
    : 'STIXGATE_TAXII_URL not set: run through scripts/integration.sh (bash scripts/medallion.sh start)';
const GENERATED = '2b1e34f0-4b1a-4c3e-9e2f-6c1d0a7b5e01';

interface MedCollection {
  id: string;
  title: string;
  can_read: boolean;
  objects?: StixObject[];
  manifest?: { id: string; date_added: string; version: string }[];
}

/**
 * What a TAXII 2.1 server serves by default: per object, its latest spec version (a STIX 2.0
 * object, without spec_version, loses to a 2.1 one), then its latest version.
 */
function expected(): { byCollection: Map<string, Map<string, string>>; lastAdded: Map<string, string> } {
  const data = JSON.parse(readFileSync(must(dataFile, 'dataFile'), 'utf8')) as Record<
    string,
    { collections?: MedCollection[] }
  >;
  const byCollection = new Map<string, Map<string, string>>();
  const lastAdded = new Map<string, string>();
  for (const c of must(data.trustgroup1, 'data.trustgroup1').collections ?? []) {
    if (!c.can_read) continue;
    const best = new Map<string, string>();
    for (const o of c.objects ?? []) {
      const key = `${String(o.spec_version ?? '2.0')}|${String(o.modified ?? o.created)}`;
      if (!best.has(o.id) || must(best.get(o.id), 'best.get(o.id)') < key) best.set(o.id, key);
    }
    byCollection.set(c.id, new Map([...best].map(([id, key]) => [id, key.slice(key.indexOf('|') + 1)])));
    const added = (c.manifest ?? []).map((m) => m.date_added).sort();
    if (added.length) lastAdded.set(c.id, must(added.at(-1), 'added.at(-1)'));
  }
  return { byCollection, lastAdded };
}

const source = (extra: Record<string, unknown> = {}) =>
  makeSource({
    url: `${base}/taxii2/`,
    api_root: 'trustgroup1',
    auth: { username: user, password },
    timeout_secs: 120,
    ...extra,
  });

test('taxii21 against medallion: complete first poll, empty second poll, new object on the third', {
  skip,
  timeout: 600_000,
}, async (t) => {
  const want = expected();
  const total = [...want.byCollection.values()].reduce((n, m) => n + m.size, 0);
  assert.ok((want.byCollection.get(GENERATED)?.size ?? 0) >= 1000, 'the generated collection is missing');

  // poll 1: every object once, at its latest version
  const h = source({ overlap_secs: 0 });
  const t0 = performance.now();
  const pages = await collectPages(h, { now: Date.now() });
  const secs = (performance.now() - t0) / 1000;
  const got = new Map<string, number>();
  for (const p of pages)
    for (const it of p.items)
      got.set(
        `${it.object.id}@${String(it.object.modified ?? it.object.created)}`,
        (got.get(`${it.object.id}@${String(it.object.modified ?? it.object.created)}`) ?? 0) + 1,
      );
  const wantKeys = [...want.byCollection.values()].flatMap((m) => [...m].map(([id, v]) => `${id}@${v}`)).sort();
  assert.deepEqual([...got.keys()].sort(), wantKeys);
  assert.ok(
    [...got.values()].every((n) => n === 1),
    'an object arrived twice',
  );
  assert.equal(
    pages.reduce((n, p) => n + p.received, 0),
    total,
  );
  assert.equal(
    pages.reduce((n, p) => n + p.rejections.length, 0),
    0,
  );
  assert.ok(pages.length >= 25, `expected several pages, got ${pages.length}`);
  const cursor = must(must(pages.at(-1), 'pages.at(-1)').cursor, 'pages.at(-1).cursor');
  for (const [id, last] of want.lastAdded)
    assert.equal(parseCursor(cursor).collections[id]?.slice(0, 26), last.slice(0, 26), `cursor of ${id}`);
  t.diagnostic(
    `poll 1: ${total} objects in ${pages.length} pages, ${secs.toFixed(1)} s (${Math.round(total / secs)} objects/s from medallion)`,
  );

  // poll 2: nothing new
  const second = await collectPages(h, { now: Date.now(), cursor });
  assert.equal(
    second.reduce((n, p) => n + p.received, 0),
    0,
  );
  assert.equal(must(second.at(-1), 'second.at(-1)').cursor, cursor);

  // an object added between polls (TAXII add-objects) arrives on the next poll, alone
  const added = {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--${crypto.randomUUID()}`,
    created: new Date().toISOString(),
    modified: new Date().toISOString(),
    name: 'added between polls',
    indicator_types: ['malicious-activity'],
    pattern: "[url:value = 'http://added.example.org/x']",
    pattern_type: 'stix',
    valid_from: new Date().toISOString(),
  };
  const res = await fetch(`${base}/trustgroup1/collections/${GENERATED}/objects/`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
      accept: 'application/taxii+json;version=2.1',
      'content-type': 'application/taxii+json;version=2.1',
    },
    body: JSON.stringify({ objects: [added] }),
  });
  assert.equal(res.status, 202, await res.text());
  const third = await collectPages(h, { now: Date.now(), cursor });
  assert.deepEqual(
    third.flatMap((p) => p.items.map((i) => i.object.id)),
    [added.id],
  );
  assert.ok(
    must(
      parseCursor(must(third.at(-1), 'third.at(-1)').cursor).collections[GENERATED],
      'parseCursor(third.at(-1).cursor).collections[GENERATED]',
    ) > must(parseCursor(cursor).collections[GENERATED], 'parseCursor(cursor).collections[GENERATED]'),
  );

  // through the runner and the store, with the default overlap: replays create nothing
  const { store, dispose } = await tempStore();
  try {
    const r = source();
    const a = await runOnce(r, store, Date.now());
    assert.equal(a.created, total + 1);
    const b = await runOnce(r, store, Date.now());
    assert.equal(b.created, 0);
    assert.equal(b.updated, 0);
    assert.equal((await store.stats()).objects, total + 1);
    t.diagnostic(`store runs: first created ${a.created}, second re-read ${b.received} (overlap window) and created 0`);
  } finally {
    await dispose();
  }

  // probe
  const probe = await must(h.comp.source.probe, 'h.comp.source.probe').call(h.comp.source, {
    id: 't',
    logger: h.comp.logger,
    http: h.comp.http,
    signal: new AbortController().signal,
    now: Date.now(),
  });
  assert.match(
    probe,
    /^TAXII 2\.1 Some TAXII Server, API root Malware Research Group: 6 collections \(4 readable\), polling /,
  );

  // every emitted object passes stix2-validator
  if (!python) {
    t.diagnostic('STIXGATE_PYTHON not set: stix2-validator step skipped');
    return;
  }
  const objects = [...pages, ...third].flatMap((p) => p.items.map((i) => i.object));
  const report = must(
    assertValidStix([['taxii', objects]]).get('taxii'),
    "assertValidStix([['taxii', objects]]).get('taxii')",
  );
  assert.equal(report.objects, total + 1);
  t.diagnostic(`stix2-validator: ${report.objects} objects valid`);
});
