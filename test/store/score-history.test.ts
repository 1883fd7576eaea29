import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { StixObject } from '../../src/core/stix.js';
import { rescoreStore } from '../../src/store/rescore.js';
import { SCHEMA_VERSION, openEmbeddedStore, openThreadedStore } from '../../src/store/embedded/index.js';
import {
  SCORE_HISTORY_CAP,
  appendHistory,
  packHistory,
  scoreChange,
  unpackHistory,
  type ScoreHistoryEntry,
} from '../../src/store/score-history.js';
import { DAY, HOUR, STANDARD, T0, iso } from '../score/helpers.js';
import { brief, checkLife, dailyChanges, ind, score, scoreLife } from './score-history-life.js';
import { must } from '../helpers/must.js';

/**
 * The score history (docs/scoring.md §4a): one entry per write that changes an indicator's score,
 * whatever made the write (ingest merge, enrichment, re-score, sighting), capped per object, and
 * the schema migration that adds it to a store of the previous version.
 */
type After = { after: (fn: () => Promise<void> | void) => void };

function tmp(t: After): string {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-score-history-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('ingest, enrichment, re-score and sightings each record the score change they make', async (t) => {
  const store = await openEmbeddedStore({ dataDir: tmp(t), scoring: STANDARD() });
  t.after(() => store.close());
  const { id, history } = await scoreLife(store);
  checkLife(history);
  assert.equal(score(await store.get(id)), 100, 'the last entry is the current score');
  // a re-score pass in which nothing moves by the step writes nothing
  await rescoreStore(store, STANDARD(), T0 + 3 * DAY + HOUR);
  assert.equal((await must(store.scoreHistory, 'store.scoreHistory').call(store, id)).length, 4);
  assert.deepEqual(
    await must(store.scoreHistory, 'store.scoreHistory').call(store, 'indicator--00000000-0000-4000-8000-000000000000'),
    [],
  );
});

test('the threaded store (the daemon’s) records and reads the same history', async (t) => {
  const store = await openThreadedStore({ dataDir: tmp(t), scoring: STANDARD() });
  t.after(() => store.close());
  checkLife((await scoreLife(store)).history);
});

test('at most SCORE_HISTORY_CAP entries are kept per indicator, the newest', async (t) => {
  const dir = tmp(t);
  const store = await openEmbeddedStore({ dataDir: dir, scoring: STANDARD() });
  t.after(() => store.close());
  const ip = ind('203.0.113.5');
  const other = ind('203.0.113.6');
  await store.upsert(
    [
      { object: ip, source: 'feed', confidence: 100 },
      { object: other, source: 'feed', confidence: 100 },
    ],
    { now: T0 },
  );
  // a sighting a day, a re-score between: two changes a day, more than the cap
  const days = SCORE_HISTORY_CAP;
  await dailyChanges(store, ip.id, days);
  const h = await must(store.scoreHistory, 'store.scoreHistory').call(store, ip.id);
  assert.equal(h.length, SCORE_HISTORY_CAP);
  assert.equal(h.at(-1)?.score, score(await store.get(ip.id)), 'the newest entry is kept');
  assert.equal(h.at(-1)?.at, iso(T0 + days * DAY));
  for (let i = 1; i < h.length; i++) assert.equal(h[i]?.previous, h[i - 1]?.score, 'consecutive, none lost in between');
  assert.ok(
    (await must(store.scoreHistory, 'store.scoreHistory').call(store, other.id)).length > 0,
    "another indicator's entries are its own",
  );
  const raw = new Database(join(dir, 'stixgate.db'), { readonly: true });
  t.after(() => raw.close());
  const perObject = raw.prepare('SELECT max(n) FROM (SELECT count(*) AS n FROM score_history GROUP BY obj)').pluck();
  assert.equal(perObject.get(), SCORE_HISTORY_CAP);
});

test('a schema 4 store is migrated: the table is added, stored objects start without history', async (t) => {
  const dir = tmp(t);
  const ip = ind('192.0.2.44');
  {
    const s = await openEmbeddedStore({ dataDir: dir, scoring: STANDARD() });
    await s.upsert([{ object: ip, source: 'feed-a', confidence: 60 }], { now: T0 });
    await s.close();
  }
  // the layout version 4 wrote: everything but the score_history table
  const db = new Database(join(dir, 'stixgate.db'));
  db.exec("DROP TABLE score_history; UPDATE meta SET value = '4' WHERE key = 'schema_version'");
  db.close();
  const s = await openEmbeddedStore({ dataDir: dir, scoring: STANDARD() });
  t.after(() => s.close());
  assert.equal(score(await s.get(ip.id)), 60, 'objects survive the migration');
  assert.deepEqual(await must(s.scoreHistory, 's.scoreHistory').call(s, ip.id), []);
  await s.upsert([{ object: ip, source: 'feed-b', confidence: 40, seenAt: iso(T0) }], { now: T0 + HOUR });
  assert.deepEqual(brief(await must(s.scoreHistory, 's.scoreHistory').call(s, ip.id)), [[60, 70, 'source', 'feed-b']]);
  const raw = new Database(join(dir, 'stixgate.db'), { readonly: true });
  t.after(() => raw.close());
  assert.equal(
    raw.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get(),
    String(SCHEMA_VERSION),
  );
  assert.equal(raw.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'score_history'").pluck().get(), 1);
});

test('scoreChange names the cause; the packed form round-trips and appendHistory keeps the newest', () => {
  const base = (sources: Record<string, unknown>, s: number, extra: Record<string, unknown> = {}): StixObject => ({
    type: 'indicator',
    id: 'indicator--x',
    x_stixgate: { sources, score: s, ...extra } as never,
  });
  const a = { first_seen: iso(T0), last_seen: iso(T0) };
  const b = { first_seen: iso(T0), last_seen: iso(T0 + DAY) };
  assert.equal(scoreChange(undefined, base({ f: a }, 50), T0), undefined);
  assert.equal(scoreChange(base({ f: a }, 50), base({ f: b }, 50), T0), undefined, 'same score: no entry');
  assert.equal(scoreChange(base({ f: a }, 50), base({ f: b }, 60), T0 + 1500)?.at, iso(T0 + 1000));
  assert.deepEqual(scoreChange(base({ f: a }, 50), base({ f: b }, 60), T0)?.sources, ['f']);
  assert.equal(
    scoreChange(base({ f: a }, 50), base({ f: a }, 60, { sightings: { count: 1 } }), T0)?.reason,
    'sighting',
  );
  assert.equal(scoreChange(base({ f: a }, 50), base({ f: a }, 40), T0)?.reason, 'decay');
  const e = must(scoreChange(base({ f: a }, 50), base({ f: a, 'enrich:x': a }, 70), T0), 'the enrichment change');
  assert.deepEqual([e.reason, e.sources, e.contributors], ['enrichment', ['enrich:x'], ['enrich:x', 'f']]);
  assert.deepEqual(unpackHistory(packHistory([e])), [e]);
  assert.deepEqual(unpackHistory('not json'), []);
  assert.deepEqual(unpackHistory(undefined), []);
  const many = Array.from({ length: SCORE_HISTORY_CAP + 3 }, (_, i) => ({ ...e, score: i }));
  const kept = many.reduce<ScoreHistoryEntry[]>((h, x) => appendHistory(h, x), []);
  assert.deepEqual(
    kept.map((x) => x.score),
    many.slice(3).map((x) => x.score),
  );
});
