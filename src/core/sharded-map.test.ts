import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAP_ENTRY_LIMIT, ShardedMap } from './sharded-map.js';

test('entries past the shard limit go to new shards, each key in exactly one, and all stay reachable', () => {
  const m = new ShardedMap<string, number>(1_000);
  for (let i = 0; i < 5_500; i++) m.set(`k${i}`, i);
  assert.equal(m.size, 5_500);
  assert.deepEqual(m.shardSizes(), [1_000, 1_000, 1_000, 1_000, 1_000, 500]);
  for (let i = 0; i < 5_500; i++) assert.equal(m.get(`k${i}`), i);
  assert.equal(m.get('absent'), undefined);
  assert.equal(m.has('k5499'), true);
  assert.equal(m.has('absent'), false);
  // an update replaces the value where the key lives: no second copy, no growth
  m.set('k10', -10);
  m.set('k5400', -5400);
  assert.equal(m.size, 5_500);
  assert.equal(m.get('k10'), -10);
  assert.equal(m.get('k5400'), -5400);
  const seen = new Set<string>();
  for (const [k] of m) {
    assert.ok(!seen.has(k), `${k} iterated twice`);
    seen.add(k);
  }
  assert.equal(seen.size, 5_500);
  assert.equal([...m.keys()].length, 5_500);
  assert.equal([...m.values()].length, 5_500);
});

test('while one shard has room, a set of a known key replaces its value and the size stays', () => {
  const m = new ShardedMap<string, number>(10);
  m.set('a', 1);
  m.set('a', 2);
  assert.equal(m.size, 1);
  assert.equal(m.get('a'), 2);
  for (let i = 0; i < 9; i++) m.set(`k${i}`, i);
  assert.deepEqual(m.shardSizes(), [10]);
  m.set('a', 3);
  assert.deepEqual(m.shardSizes(), [10], 'a full shard still updates in place');
  assert.equal(m.get('a'), 3);
  m.set('b', 4);
  assert.deepEqual(m.shardSizes(), [10, 1]);
});

test('a value of undefined stored in a later shard is found as present', () => {
  const m = new ShardedMap<string, number | undefined>(2);
  m.set('a', 1);
  m.set('b', 2);
  m.set('c', undefined);
  assert.equal(m.shardCount, 2);
  assert.equal(m.has('c'), true);
  assert.equal(m.get('c'), undefined);
});

test('deletes free room that new keys reuse, and an emptied shard stops being probed', () => {
  const m = new ShardedMap<number, number>(1_000);
  for (let i = 0; i < 3_000; i++) m.set(i, i);
  assert.equal(m.shardCount, 3);
  for (let i = 0; i < 10; i++) assert.equal(m.delete(i), true);
  assert.equal(m.delete(0), false, 'a key is deleted once');
  for (let i = 10_000; i < 10_010; i++) m.set(i, i);
  assert.deepEqual(m.shardSizes(), [1_000, 1_000, 1_000], 'new keys filled the room in the first shard');
  for (let i = 1_000; i < 2_000; i++) m.delete(i);
  assert.deepEqual(m.shardSizes(), [1_000, 1_000], 'the emptied middle shard is gone');
  assert.equal(m.size, 2_000);
  for (let i = 2_000; i < 3_000; i++) assert.equal(m.get(i), i);
  for (let i = 0; i < 3_000; i++) m.delete(i);
  for (let i = 10_000; i < 10_010; i++) m.delete(i);
  assert.equal(m.size, 0);
  assert.equal(m.shardCount, 1, 'the last shard stays, empty');
  m.set(7, 7);
  assert.equal(m.get(7), 7);
});

test('the shard limit is checked against what one Map can hold', () => {
  assert.throws(() => new ShardedMap(0), RangeError);
  assert.throws(() => new ShardedMap(MAP_ENTRY_LIMIT + 1), RangeError);
  assert.equal(new ShardedMap(MAP_ENTRY_LIMIT).shardLimit, MAP_ENTRY_LIMIT);
});
