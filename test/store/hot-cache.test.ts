import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { StixObject } from '../../src/core/stix.js';
import type { IngestItem } from '../../src/store/contract.js';
import { HotCache, fingerprint } from '../../src/store/embedded/hot-cache.js';
import { T0, indicatorFor } from './fixtures.js';

const SEEN = new Date(T0).toISOString();

function stored(n: number): { item: IngestItem; obj: StixObject } {
  const item: IngestItem = { object: indicatorFor(n), source: 'a' };
  const obj = {
    ...indicatorFor(n),
    x_stixgate: { sources: { a: { first_seen: SEEN, last_seen: SEEN } } },
  } as unknown as StixObject;
  return { item, obj };
}

it('the hot cache holds at most maxEntries ids and lets the least recently used go first', () => {
  const cache = new HotCache(3);
  const known = (n: number) => {
    const { item } = stored(n);
    return cache.isFixedPoint(item.object.id, fingerprint(item), item, T0, 0);
  };
  for (let n = 1; n <= 3; n++) {
    const { item, obj } = stored(n);
    cache.remember(obj.id, [{ print: fingerprint(item), item }], obj, true);
  }
  assert.deepEqual([1, 2, 3].map(known), [true, true, true]);
  assert.equal(known(1), true); // 1 is now the most recently used, 2 the least
  for (let n = 4; n <= 5; n++) {
    const { item, obj } = stored(n);
    cache.remember(obj.id, [{ print: fingerprint(item), item }], obj, true);
  }
  assert.equal(cache.size, 3);
  assert.deepEqual([1, 2, 3, 4, 5].map(known), [true, false, false, true, true]);
  // many more ids than the bound: the size stays at the bound
  for (let n = 6; n < 20_000; n++) {
    const { item, obj } = stored(n);
    cache.remember(obj.id, [{ print: fingerprint(item), item }], obj, true);
  }
  assert.equal(cache.size, 3);
  assert.deepEqual([19_997, 19_998, 19_999].map(known), [true, true, true]);
});
