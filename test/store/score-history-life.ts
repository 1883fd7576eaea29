import assert from 'node:assert/strict';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { detectObservable } from '../../src/core/observable.js';
import type { StixObject } from '../../src/core/stix.js';
import type { ScoreExtension } from '../../src/score/model.js';
import type { Store } from '../../src/store/contract.js';
import { rescoreStore } from '../../src/store/rescore.js';
import type { ScoreHistoryEntry } from '../../src/store/score-history.js';
import { recordSightings } from '../../src/store/sightings.js';
import { DAY, HOUR, STANDARD, T0, iso } from '../score/helpers.js';
import { must } from '../helpers/must.js';

/** One indicator's score written by every writer in turn, for each store backend's score history test. */
/** An indicator for an observable value, created at T0. */
export function ind(value: string): StixObject {
  const r = detectObservable(value);
  if (!r.ok) throw new Error(value);
  return indicatorFromObservable(r.observable, { now: iso(T0) });
}

export const score = (o: StixObject | undefined) => (o?.x_stixgate as ScoreExtension | undefined)?.score;
export const brief = (h: ScoreHistoryEntry[]) => h.map((e) => [e.previous, e.score, e.reason, e.sources.join(',')]);

/** Every writer of a score, in turn, on one IPv4 indicator (7-day half-life, step 5). */
export async function scoreLife(store: Store): Promise<{ id: string; history: ScoreHistoryEntry[] }> {
  const ip = ind('198.51.100.7');
  await store.upsert([{ object: ip, source: 'feed-a', confidence: 60 }], { now: T0 });
  assert.equal(score(await store.get(ip.id)), 60);
  assert.deepEqual(
    await must(store.scoreHistory, 'store.scoreHistory').call(store, ip.id),
    [],
    'the first score is not a change',
  );
  // the same delivery an hour later: no write, no entry
  await store.upsert([{ object: ip, source: 'feed-a', confidence: 60 }], { now: T0 + HOUR });
  await store.upsert([{ object: ip, source: 'feed-b', confidence: 40, seenAt: iso(T0) }], { now: T0 + HOUR });
  await store.upsert([{ object: ip, source: 'enrich:vt', confidence: 100, seenAt: iso(T0) }], { now: T0 + 2 * HOUR });
  await rescoreStore(store, STANDARD(), T0 + 3 * DAY);
  await recordSightings(
    store,
    STANDARD(),
    [{ indicatorId: ip.id, count: 3, firstSeen: T0 + 3 * DAY, lastSeen: T0 + 3 * DAY, where: 'siem' }],
    T0 + 3 * DAY,
  );
  return { id: ip.id, history: await must(store.scoreHistory, 'store.scoreHistory').call(store, ip.id) };
}

export function checkLife(history: ScoreHistoryEntry[]): void {
  // 60 → 70 (a second source) → 89 (a malicious verdict: base 90, aged two hours) → 67 (three days of decay) → 100 (three sightings)
  assert.deepEqual(brief(history), [
    [60, 70, 'source', 'feed-b'],
    [70, 89, 'enrichment', 'enrich:vt'],
    [89, 67, 'decay', ''],
    [67, 100, 'sighting', ''],
  ]);
  assert.deepEqual(
    history.map((e) => e.at),
    [iso(T0 + HOUR), iso(T0 + 2 * HOUR), iso(T0 + 3 * DAY), iso(T0 + 3 * DAY)],
  );
  assert.deepEqual(history[3]?.contributors, ['enrich:vt', 'feed-a', 'feed-b']);
  assert.deepEqual(history[0]?.contributors, ['feed-a', 'feed-b']);
}

/** A re-score pass and a sighting of `id` each day for `days` days: two score changes a day. */
export async function dailyChanges(store: Store, id: string, days: number): Promise<void> {
  for (let d = 1; d <= days; d++) {
    await rescoreStore(store, STANDARD(), T0 + d * DAY);
    await recordSightings(
      store,
      STANDARD(),
      [{ indicatorId: id, count: 1, firstSeen: T0 + d * DAY, lastSeen: T0 + d * DAY, where: `siem-${d}` }],
      T0 + d * DAY,
    );
  }
}
