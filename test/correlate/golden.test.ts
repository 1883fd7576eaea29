import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { StixObject } from '../../src/core/stix.js';
import { collectSource, FIXED_NOW } from '../helpers/collect.js';
import { corpusPath } from '../helpers/corpus.js';
import { model } from './expected.js';
import { rig, type Rig } from './fixtures.js';
import { must } from '../helpers/must.js';

/**
 * Golden correlation over real data from the shared corpus: the data is mapped by the
 * integrations (through the registry), stored in the embedded store, and followed by the
 * correlator; the related objects of chosen objects must be exactly the ones the data links,
 * as computed independently by test/correlate/expected.ts.
 */

async function ingest(r: Rig, objects: StixObject[], source: string): Promise<void> {
  for (let i = 0; i < objects.length; i += 1000) {
    const res = await r.store.upsert(
      objects.slice(i, i + 1000).map((object) => ({ object, source })),
      { now: FIXED_NOW },
    );
    assert.deepEqual(res.rejected, [], 'the store takes every mapped object');
  }
  const c = await r.correlator.catchUp(r.store);
  assert.equal(c.caughtUp, true);
}

const sorted = (s: Iterable<string>) => [...s].sort();

const ics = corpusPath('mitre-attack/ics-attack-18.1.json');
test('golden correlation: ATT&CK ICS relationships, depth 1 and 2, paths name the relationship', {
  skip: ics.skip,
}, async (t) => {
  const r = await rig(t);
  const { objects, rejections } = await collectSource('stix_bundle', ics.path);
  assert.equal(rejections.length, 0);
  await ingest(r, objects, 'attack');
  // the expectation comes from the raw bundle, not from the mapped objects
  const raw = (JSON.parse(readFileSync(ics.path, 'utf8')) as { objects: StixObject[] }).objects;
  const m = model(raw);
  const rels = new Map(raw.filter((o) => o.type === 'relationship').map((o) => [o.id, o]));

  const byType = (type: string) =>
    raw
      .filter((o) => o.type === type && o.revoked !== true)
      .sort((a, b) => m.explicit(b.id).size - m.explicit(a.id).size || (a.id < b.id ? -1 : 1));
  const chosen = [
    byType('malware')[0],
    must(byType('malware').at(-1), "byType('malware').at(-1)"),
    byType('intrusion-set')[0],
    byType('campaign')[0],
    byType('attack-pattern')[0],
    byType('course-of-action')[0],
    byType('x-mitre-asset')[0],
  ];
  let checked = 0;
  for (const o of chosen) {
    const expected = m.explicit(must(o, 'o').id);
    const res = await r.correlator.related(r.store, must(o, 'o').id, { limit: 1000, now: FIXED_NOW });
    assert.ok(res, must(o, 'o').id);
    assert.equal(res.capped, false, must(o, 'o').id);
    assert.deepEqual(
      sorted(res.related.map((x) => x.object.id)),
      sorted(expected),
      `${must(o, 'o').type} ${must(o, 'o').name}: related = the other ends of its relationships`,
    );
    for (const x of res.related) {
      assert.equal(x.path.length, 1);
      const [s] = x.path;
      const stated = rels.get(must(must(s, 's').via, 's.via'));
      assert.ok(stated, `${must(s, 's').via} is a relationship of the bundle`);
      assert.deepEqual(
        [stated.source_ref, stated.relationship_type, stated.target_ref],
        [must(s, 's').from, must(s, 's').kind, must(s, 's').to],
      );
    }
    checked += expected.size;
  }
  assert.ok(checked > 100, `a meaningful sample (${checked} links)`);

  // depth 2 from a malware: neighbours and their neighbours
  const start = must(chosen[0], 'chosen[0]').id;
  const expected2 = new Set(m.explicit(start));
  for (const n of m.explicit(start)) for (const k of m.explicit(n)) if (k !== start) expected2.add(k);
  const res2 = await r.correlator.related(r.store, start, { depth: 2, limit: 1000, now: FIXED_NOW });
  assert.equal(must(res2, 'res2').capped, false);
  assert.deepEqual(sorted(must(res2, 'res2').related.map((x) => x.object.id)), sorted(expected2));
  for (const x of must(res2, 'res2').related)
    assert.equal(
      must(x.path[x.path.length - 1], 'x.path[x.path.length - 1]').from === x.object.id ||
        must(x.path[x.path.length - 1], 'x.path[x.path.length - 1]').to === x.object.id,
      true,
    );
  // types filter
  const groups = await r.correlator.related(r.store, start, {
    depth: 2,
    limit: 1000,
    types: ['intrusion-set'],
    now: FIXED_NOW,
  });
  assert.deepEqual(
    sorted(must(groups, 'groups').related.map((x) => x.object.id)),
    sorted([...expected2].filter((id) => m.byId.get(id)?.type === 'intrusion-set')),
  );
  // revoked objects (revoked-by relationships) never show
  for (const o of raw.filter((x) => x.revoked === true)) {
    const res = await r.correlator.related(
      r.store,
      must(
        raw.find((x) => x.type === 'relationship' && x.relationship_type === 'revoked-by' && x.source_ref === o.id),
        "raw.find((x) => x.type === 'relationship' && x.relationsh...",
      ).target_ref as string,
      { now: FIXED_NOW },
    );
    assert.ok(!must(res, 'res').related.some((x) => x.object.id === o.id), `${o.id} is revoked`);
  }
});

const chrome = corpusPath('chrome-mal-ids-misp-feed/misp-feed/manifest.json');
const existing = corpusPath('pymisp/mispevent_testfiles/existing_event.json');
test('golden correlation: MISP events (report membership, galaxies → malware/actor/tool, same values, URLs on listed domains, file siblings)', {
  skip: chrome.skip || existing.skip,
}, async (t) => {
  const r = await rig(t);
  const feed = await collectSource('misp_feed', chrome.path.replace(/manifest\.json$/, ''));
  const event = await collectSource('misp_feed', existing.path);
  await ingest(r, feed.objects, 'chrome_mal_ids');
  await ingest(r, event.objects, 'misp_pymisp');
  // the model is built from the stored objects (the store merged SCOs and indicators seen twice)
  const stored = await r.store.getMany([...new Set([...feed.objects, ...event.objects].map((o) => o.id))]);
  const all = [...stored.values()];
  const m = model(all);
  const cap = r.correlator.maxFanout;

  const indicators = all.filter((o) => o.type === 'indicator').sort((a, b) => (a.id < b.id ? -1 : 1));
  const check = async (id: string): Promise<{ derived: number; explicit: number }> => {
    const explicit = m.explicit(id);
    const same = m.sameValue(id);
    const domain = m.onDomain(id);
    const sibs = m.siblings(id);
    const res = await r.correlator.related(r.store, id, { limit: 1000, now: FIXED_NOW });
    const got = new Map(must(res, 'res').related.map((x) => [x.object.id, x.path[0]]));
    const full = new Set([...explicit, ...same, ...domain, ...sibs]);
    for (const g of got.keys()) assert.ok(full.has(g), `${id}: ${g} is linked by the data`);
    // explicit links, same values and domain links below the cap are all there
    for (const e of explicit) assert.ok(got.has(e), `${id}: explicit ${e}`);
    if (same.size <= cap) for (const e of same) assert.ok(got.has(e), `${id}: same value ${e}`);
    if (domain.size <= cap) for (const e of domain) assert.ok(got.has(e), `${id}: on-domain ${e}`);
    // siblings: all of them, or exactly `cap` of them with the answer marked capped
    if (sibs.size <= cap) for (const e of sibs) assert.ok(got.has(e), `${id}: sibling ${e}`);
    else {
      const shown = [...sibs].filter((s) => got.has(s)).length;
      assert.ok(shown >= cap, `${id}: ${shown} siblings shown of ${sibs.size}`);
      assert.equal(must(res, 'res').capped, true);
    }
    return { derived: [...got.values()].filter((s) => must(s, 's').derived).length, explicit: explicit.size };
  };

  // every indicator of the pymisp event; of the feed (whose URLs are observed, not indicators), its
  // domains and every 40th URL: each belongs to the reports of the events that list it
  const eventIds = new Set(event.objects.filter((o) => o.type === 'indicator').map((o) => o.id));
  const feedIds = new Set(feed.objects.map((o) => o.id));
  const feedScos = all
    .filter((o) => feedIds.has(o.id) && (o.type === 'url' || o.type === 'domain-name'))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  const picks = [
    ...indicators.filter((o) => eventIds.has(o.id)),
    ...feedScos.filter((o, i) => o.type === 'domain-name' || i % 40 === 0),
  ];
  let derived = 0;
  let explicit = 0;
  for (const o of picks) {
    const c = await check(o.id);
    derived += c.derived;
    explicit += c.explicit;
  }
  assert.ok(picks.length > 100, `${picks.length} objects checked`);
  assert.ok(derived > 500 && explicit > 250, `derived ${derived}, explicit ${explicit}`);
  // a URL listed by several events is related to each event's report
  const multi = feedScos.find(
    (o) =>
      o.type === 'url' &&
      all.filter((x) => x.type === 'report' && (x.object_refs as string[]).includes(o.id)).length > 1,
  );
  assert.ok(multi, 'the feed lists some URL in several events');
  const reps = all
    .filter((x) => x.type === 'report' && (x.object_refs as string[]).includes(multi.id))
    .map((x) => x.id);
  const inReports = await r.correlator.related(r.store, multi.id, { types: ['report'], now: FIXED_NOW });
  assert.deepEqual(sorted(must(inReports, 'inReports').related.map((x) => x.object.id)), sorted(reps));

  // galaxies: a file indicator of the event names the malware, tool and actor; the event report holds it
  const fileInd = must(
    indicators.find((o) => eventIds.has(o.id) && String(o.pattern).includes('file:hashes')),
    'indicators.find((o) => eventIds.has(o.id) && String(o.pat...',
  );
  const summary = r.correlator.relatedSummary(fileInd.id);
  const named = (type: string) =>
    all
      .filter((o) => o.type === type && m.explicit(fileInd.id).has(o.id))
      .map((o) => String(o.name))
      .sort();
  assert.deepEqual(summary.malware, named('malware'));
  assert.deepEqual(summary.threat_actors, named('threat-actor'));
  assert.deepEqual(summary.tools, named('tool'));
  assert.deepEqual(summary.reports, named('report'));
  assert.ok(summary.malware.length === 1 && summary.threat_actors.includes('Sofacy') && summary.reports.length === 1);

  // one event's attributes are related through the event report (depth 2)
  const rep = must(
    all.find((o) => o.type === 'report' && (o.object_refs as string[]).includes(fileInd.id)),
    "all.find((o) => o.type === 'report' && (o.object_refs as ...",
  );
  const members = new Set((rep.object_refs as string[]).filter((x) => x !== fileInd.id && m.live(x)));
  const deep = await r.correlator.related(r.store, fileInd.id, { depth: 2, limit: 1000, now: FIXED_NOW });
  const deepIds = new Set(must(deep, 'deep').related.map((x) => x.object.id));
  for (const x of members) assert.ok(deepIds.has(x), `event member ${x}`);
});
