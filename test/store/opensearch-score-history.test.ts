/**
 * The score history on OpenSearch (the `score_history` field of each object's document): the same
 * writers and entries as the embedded store, and the cap. Skipped unless STIXGATE_OPENSEARCH_URL
 * points at a node (`bash scripts/opensearch.sh start`).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SCORE_HISTORY_CAP } from '../../src/store/score-history.js';
import { SKIP_REASON, freshStore } from '../integration/opensearch-helpers.js';
import { STANDARD, T0 } from '../score/helpers.js';
import { checkLife, dailyChanges, ind, scoreLife } from './score-history-life.js';
import { must } from '../helpers/must.js';

it('OpenSearch: ingest, enrichment, re-score and sightings record their score changes; the newest entries are kept', {
  skip: SKIP_REASON,
}, async () => {
  const { store, cleanup } = await freshStore({ scoring: STANDARD() });
  try {
    const { id, history } = await scoreLife(store);
    checkLife(history);
    const other = ind('203.0.113.77');
    await store.upsert([{ object: other, source: 'feed', confidence: 100 }], { now: T0 });
    await dailyChanges(store, other.id, SCORE_HISTORY_CAP);
    const h = await must(store.scoreHistory, 'store.scoreHistory').call(store, other.id);
    assert.equal(h.length, SCORE_HISTORY_CAP);
    for (let i = 1; i < h.length; i++) assert.equal(h[i]?.previous, h[i - 1]?.score);
    // the first indicator went on decaying in those re-score passes: its own entries, after its first four
    const first = await must(store.scoreHistory, 'store.scoreHistory').call(store, id);
    assert.deepEqual(first.slice(0, 4), history);
    assert.ok(first.length > 4 && first.slice(4).every((e) => e.reason === 'decay' && e.score < e.previous));
  } finally {
    await cleanup();
  }
});
