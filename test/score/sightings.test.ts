import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { detectObservable } from '../../src/core/observable.js';
import type { StixObject } from '../../src/core/stix.js';
import type { ScoreExtension } from '../../src/score/model.js';
import { rescoreStore } from '../../src/store/rescore.js';
import { identityId, recordSightings, sightingId, type SightingReport } from '../../src/store/sightings.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { DAY, HOUR, STANDARD, T0, iso } from './helpers.js';
import { must } from '../helpers/must.js';

function ind(value: string): StixObject {
  const r = detectObservable(value);
  if (!r.ok) throw new Error(value);
  return indicatorFromObservable(r.observable, { now: iso(T0) });
}

async function open(t: { after: (fn: () => Promise<void> | void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-sight-'));
  const store = await openEmbeddedStore({ dataDir: dir, scoring: STANDARD() });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

const ext = (o: StixObject | undefined) => o?.x_stixgate as ScoreExtension | undefined;

test('a sighting stores a deterministic SRO and identity, raises the score and refreshes the age; a retry adds nothing', async (t) => {
  const store = await open(t);
  const ip = ind('198.51.100.7');
  await store.upsert([{ object: ip, source: 'feed', confidence: 60 }], { now: T0 });
  const now = T0 + 7 * DAY;
  await rescoreStore(store, STANDARD(), now);
  assert.equal(ext(await store.get(ip.id))?.score, 30);
  const report: SightingReport = {
    indicatorId: ip.id,
    count: 3,
    firstSeen: now - 2 * HOUR,
    lastSeen: now - HOUR,
    where: 'splunk-prod',
  };
  const head = await store.head();
  const r = await recordSightings(store, STANDARD(), [report], now);
  assert.deepEqual(r, { recorded: [{ id: sightingId(report), indicator_id: ip.id, added: 3 }], indicatorsUpdated: 1 });
  const got = await store.get(ip.id);
  assert.deepEqual(ext(got)?.sightings, { count: 3, first_seen: iso(now - 2 * HOUR), last_seen: iso(now - HOUR) });
  // 60 + 5·log2(4) = 70, aged one hour from the sighting
  assert.equal(ext(got)?.score, Math.round(70 * 2 ** (-1 / (7 * 24))));
  const sro = await store.get(sightingId(report));
  assert.equal(sro?.sighting_of_ref, ip.id);
  assert.equal(sro?.count, 3);
  assert.deepEqual(sro?.where_sighted_refs, [identityId('splunk-prod')]);
  assert.equal((await store.get(identityId('splunk-prod')))?.name, 'splunk-prod');
  const ops = (await store.changes(head, 10)).changes.map((c) => [c.type, c.op]);
  assert.deepEqual(ops, [
    ['identity', 'upsert'],
    ['sighting', 'upsert'],
    ['indicator', 'upsert'],
  ]);
  // the same report again (a retry): nothing written
  const h2 = await store.head();
  const again = await recordSightings(store, STANDARD(), [report], now + 60_000);
  assert.equal(must(again.recorded[0], 'again.recorded[0]').added, 0);
  assert.equal(again.indicatorsUpdated, 0);
  assert.equal(await store.head(), h2);
  // the same window with a higher count adds the difference
  const more = await recordSightings(store, STANDARD(), [{ ...report, count: 10 }], now + 60_000);
  assert.equal(must(more.recorded[0], 'more.recorded[0]').added, 7);
  assert.equal(ext(await store.get(ip.id))?.sightings?.count, 10);
  // a new window from another SIEM adds its count
  await recordSightings(
    store,
    STANDARD(),
    [{ ...report, where: 'qradar', count: 5, firstSeen: now, lastSeen: now }],
    now,
  );
  assert.deepEqual(ext(await store.get(ip.id))?.sightings, {
    count: 15,
    first_seen: iso(now - 2 * HOUR),
    last_seen: iso(now),
  });
});

test('a sighting revives an expired indicator; revoked ones are recorded but not rescored', async (t) => {
  const store = await open(t);
  const a = ind('192.0.2.10');
  const b = ind('192.0.2.11');
  await store.upsert(
    [
      { object: a, source: 'feed', confidence: 80 },
      { object: b, source: 'feed', confidence: 80 },
    ],
    { now: T0 },
  );
  await store.upsert([{ object: { ...b, modified: iso(T0 + HOUR), revoked: true }, source: 'feed' }], {
    now: T0 + HOUR,
  });
  const later = T0 + 30 * DAY;
  await rescoreStore(store, STANDARD(), later);
  assert.equal(ext(await store.get(a.id))?.expired, true);
  const head = await store.head();
  await recordSightings(
    store,
    STANDARD(),
    [
      { indicatorId: a.id, count: 1, firstSeen: later, lastSeen: later, where: 'edr' },
      { indicatorId: b.id, count: 1, firstSeen: later, lastSeen: later, where: 'edr' },
    ],
    later,
  );
  const back = await store.get(a.id);
  assert.equal(ext(back)?.expired, undefined);
  assert.equal(ext(back)?.score, 85);
  const changes = (await store.changes(head, 10)).changes.filter((c) => c.type === 'indicator');
  assert.deepEqual(
    changes.map((c) => [c.id, c.op]),
    [[a.id, 'upsert']],
  );
});
