/**
 * One kind of one list (src/edl/kind-list.ts): the body is the lines in arrival order, a change
 * renders one segment of it (counted in lines rendered, not timed), sparse segments are compacted,
 * and equal bodies keep their ETag and Last-Modified.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KindList, SEGMENT_LINES } from '../../src/edl/kind-list.js';

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const line = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

test('a change renders one segment: adding or removing a line costs at most SEGMENT_LINES rendered lines, whatever the list size', () => {
  const k = new KindList(1_000_000, 0, T0);
  const n = 5 * SEGMENT_LINES + 100;
  for (let i = 0; i < n; i++) k.acquire(line(i), `id-${i}`, 50);
  assert.equal(k.regenerate(T0), true);
  assert.equal(k.linesRendered, n, 'the first body renders every line once');
  assert.equal(k.snapshot.entries, n);
  const expected = Array.from({ length: n }, (_, i) => line(i));
  assert.equal(k.snapshot.body.toString(), `${expected.join('\n')}\n`);

  const r0 = k.linesRendered;
  k.acquire('192.0.2.1', 'new', 50);
  k.regenerate(T0 + 1000);
  assert.equal(k.linesRendered - r0, 101, 'only the last segment (100 lines + the new one)');
  assert.ok(k.snapshot.body.toString().endsWith(`${line(n - 1)}\n192.0.2.1\n`));

  const r1 = k.linesRendered;
  k.release(line(SEGMENT_LINES + 5), `id-${SEGMENT_LINES + 5}`);
  k.regenerate(T0 + 2000);
  assert.equal(k.linesRendered - r1, SEGMENT_LINES - 1, 'only the second segment, one line shorter');
  const after = [...expected.filter((_, i) => i !== SEGMENT_LINES + 5), '192.0.2.1'];
  assert.equal(k.snapshot.body.toString(), `${after.join('\n')}\n`, 'arrival order kept');
  assert.equal(k.snapshot.entries, n);
});

test('sparse segments are compacted in arrival order; the body is unchanged by it', () => {
  const k = new KindList(1_000_000, 0, T0);
  const n = 20 * SEGMENT_LINES;
  for (let i = 0; i < n; i++) k.acquire(line(i), `id-${i}`, 50);
  k.regenerate(T0);
  // keep one line in 40 (every segment sparse), then add a few
  const kept: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 40 === 0) kept.push(line(i));
    else k.release(line(i), `id-${i}`);
  }
  for (let i = 0; i < 3; i++) {
    k.acquire(`192.0.2.${i}`, `new-${i}`, 50);
    kept.push(`192.0.2.${i}`);
  }
  const r0 = k.linesRendered;
  k.regenerate(T0 + 1000);
  assert.equal(k.snapshot.body.toString(), `${kept.join('\n')}\n`);
  assert.equal(k.linesRendered - r0, kept.length, 'compacted into full segments, each rendered once');
});

test('a body equal to the previous one keeps its ETag and Last-Modified; a different one gets new ones', () => {
  const k = new KindList(100, 0, T0);
  k.acquire('a.example', 'x', 10);
  k.regenerate(T0);
  const first = k.snapshot;
  k.acquire('b.example', 'y', 10);
  k.release('b.example', 'y');
  assert.equal(k.stale, true, 'a line came and went');
  assert.equal(k.regenerate(T0 + 5000), false, 'same bytes');
  assert.deepEqual([k.snapshot.etag, k.snapshot.lastModified], [first.etag, first.lastModified]);
  k.acquire('c.example', 'z', 10);
  assert.equal(k.regenerate(T0 + 7000), true);
  assert.notEqual(k.snapshot.etag, first.etag);
  assert.equal(k.snapshot.lastModifiedHttp, new Date(T0 + 7000).toUTCString());
});

test('max_bytes under the entry cap cuts after the last whole line', () => {
  const k = new KindList(1000, 30, T0);
  for (const l of ['aaaa.example', 'bbbb.example', 'cccc.example']) k.acquire(l, l, 10);
  k.regenerate(T0);
  assert.equal(k.snapshot.body.toString(), 'aaaa.example\nbbbb.example\n');
  assert.deepEqual([k.snapshot.entries, k.snapshot.truncated], [2, 1]);
});
