import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeTimestamp, withOverlap } from './cursor.js';

test('withOverlap steps back by the overlap and keeps the normalised form', () => {
  assert.equal(withOverlap('2026-03-01T12:00:00.000000000Z', 60), '2026-03-01T11:59:00.000000000Z');
  assert.equal(withOverlap('2026-03-01T12:00:00.000000000Z', 0), '2026-03-01T12:00:00.000000000Z');
});

test('an overlap reaching before year 0000 is a RangeError, not an undefined cursor', () => {
  const ts = normalizeTimestamp('0000-01-01T00:00:10Z');
  assert.equal(ts, '0000-01-01T00:00:10.000000000Z');
  assert.throws(() => withOverlap(ts ?? '', 60), /outside the years 0000-9999/);
});
