import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ObjectSplitter, type SplitEvent } from './json-split.js';

function split(
  text: string | Buffer,
  chunk: number,
  opts: Partial<{ maxObjectBytes: number; maxDepth: number; arrayKey: string }> = {},
): SplitEvent[] {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  const s = new ObjectSplitter({ maxObjectBytes: 1 << 20, maxDepth: 64, ...opts });
  const out: SplitEvent[] = [];
  for (let i = 0; i < buf.length; i += chunk) s.push(buf.subarray(i, i + chunk), out);
  s.end();
  return out;
}

const bundle =
  '\ufeff{"type":"bundle","id":"bundle--1","spec_version":"2.0","x":{"objects":[{"no":1}]},"objects" : [ {"a":"}\\"{","b":[1,{"c":"é漢字🙂"}]} , {"d":"\\\\"}\n,{"e":{}}],"after":{"objects":[{"z":1}]}}';

test('splits the objects array of a bundle at any chunk size (escapes, UTF-8 split across chunks)', () => {
  const expected = ['{"a":"}\\"{","b":[1,{"c":"é漢字🙂"}]}', '{"d":"\\\\"}', '{"e":{}}'];
  for (const size of [1, 2, 3, 5, 7, 64, 4096]) {
    const ev = split(bundle, size);
    assert.deepEqual(
      ev.map((e) => (e.kind === 'object' ? e.text : e.reason)),
      expected,
      `chunk ${size}`,
    );
    assert.deepEqual(
      ev.map((e) => e.index),
      [0, 1, 2],
    );
    assert.deepEqual(JSON.parse((ev[0] as { text: string }).text).b[1].c, 'é漢字🙂');
  }
});

test('records the bundle spec_version that precedes the objects', () => {
  const s = new ObjectSplitter({ maxObjectBytes: 1 << 20, maxDepth: 64 });
  s.push(Buffer.from(bundle), []);
  assert.equal(s.bundleSpecVersion, '2.0');
});

test('a bare array and a single object are accepted; scalars in the array are not objects', () => {
  assert.deepEqual(
    split('[{"a":1}, "x", 3, [1,2], {"b":2}]', 3).map((e) => (e.kind === 'object' ? e.text : e.reason)),
    ['{"a":1}', 'not_object', 'not_object', 'not_object', '{"b":2}'],
  );
  assert.deepEqual(
    split('{"type":"identity","objects":{"0":{}}}', 4).map((e) => (e.kind === 'object' ? e.text : e.reason)),
    ['{"type":"identity","objects":{"0":{}}}'],
  );
  assert.deepEqual(
    split('[1]', 1).map((e) => e.kind === 'error' && e.reason),
    ['not_object'],
  );
});

test('oversized objects are skipped (not buffered) and deep ones refused; the scan goes on', () => {
  const big = `{"x":"${'a'.repeat(5000)}"}`;
  const ev = split(`[${big},{"ok":1},${'['.repeat(3)}${']'.repeat(3)}]`, 100, { maxObjectBytes: 1000, maxDepth: 5 });
  assert.deepEqual(
    ev.map((e) => (e.kind === 'object' ? e.text : e.reason)),
    ['too_large', '{"ok":1}', 'not_object'],
  );
  const deep = split(`[{"a":${'['.repeat(10)}${']'.repeat(10)}}]`, 3, { maxDepth: 5 });
  assert.deepEqual(
    deep.map((e) => e.kind === 'error' && e.reason),
    ['too_deep'],
  );
});

test('custom array key (KEV "vulnerabilities")', () => {
  const ev = split('{"title":"t","vulnerabilities":[{"cveID":"CVE-1"},{"cveID":"CVE-2"}]}', 5, {
    arrayKey: 'vulnerabilities',
  });
  assert.equal(ev.length, 2);
});

test('truncated, trailing garbage and non-JSON documents throw', () => {
  assert.throws(() => split('{"objects":[{"a":1},{"b"', 4), { code: 'STIXGATE_ERR_INPUT_PARSE', reason: 'truncated' });
  assert.throws(() => split('[{"a":1}] x', 4), { code: 'STIXGATE_ERR_INPUT_PARSE' });
  assert.throws(() => split('<html>', 4), { code: 'STIXGATE_ERR_INPUT_PARSE' });
  assert.throws(() => split('   ', 4), { code: 'STIXGATE_ERR_INPUT_EMPTY' });
});
