/**
 * The store-level scoring path on OpenSearch (the merge with the store's `scoring` option): skipped
 * unless STIXGATE_OPENSEARCH_URL points at a node (`bash scripts/opensearch.sh start`).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { detectObservable } from '../../src/core/observable.js';
import type { ScoreExtension } from '../../src/score/model.js';
import { rescoreStore } from '../../src/store/rescore.js';
import { SKIP_REASON, freshStore } from '../integration/opensearch-helpers.js';
import { DAY, HOUR, STANDARD, T0, iso } from './helpers.js';

it('OpenSearch: merge scores with decay and derives valid_until; time alone is no write; re-score expires', {
  skip: SKIP_REASON,
}, async () => {
  const { store, cleanup } = await freshStore({ scoring: STANDARD() });
  try {
    const r = detectObservable('198.51.100.7');
    if (!r.ok) throw new Error('fixture');
    const ip = indicatorFromObservable(r.observable, { now: iso(T0) });
    await store.upsert([{ object: ip, source: 'feed', confidence: 80, seenAt: iso(T0) }], { now: T0 });
    const got = await store.get(ip.id);
    const ext = got?.x_stixgate as ScoreExtension;
    assert.equal(ext.score, 80);
    assert.equal(ext.derived_valid_until, true);
    const crossing = T0 + Math.ceil(7 * Math.log2(80 / 19.5) * DAY);
    assert.equal(got?.valid_until, iso(crossing));
    const head = await store.head();
    const again = await store.upsert([{ object: ip, source: 'feed', confidence: 80, seenAt: iso(T0 + 10 * 60_000) }], {
      now: T0 + 3 * DAY,
    });
    assert.equal(again.unchanged, 1);
    assert.equal(await store.head(), head);
    const rs = await rescoreStore(store, STANDARD(), crossing + HOUR);
    assert.equal(rs.expired, 1);
    const ch = (await store.changes(head, 10)).changes;
    assert.deepEqual(
      ch.map((c) => [c.op, c.object.x_stixgate?.score]),
      [['expire', 19]],
    );
  } finally {
    await cleanup();
  }
});
