import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeJsonParse } from '../../src/core/safe-json.js';
import { escapeText } from '../../src/core/escape.js';
import type { StixgateError } from '../../src/core/errors.js';
import { parseMispJson } from '../../integrations/misp/fetch.js';

test('safeJsonParse: a leading UTF-8 BOM is ignored (RFC 8259 §8.1), one elsewhere is an error', () => {
  assert.deepEqual(safeJsonParse('\uFEFF{"a":1}'), { ok: true, value: { a: 1 } });
  assert.equal(safeJsonParse('{"a":\uFEFF1}').ok, false);
});

test('issue 18: a JSON parse error quotes the input with newlines and control characters escaped (no forged log lines)', () => {
  const forged = 'x\n{"level":"info","msg":"admin logged in"}\r\u2028\u202e';
  const r = safeJsonParse(forged);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.reason, 'parse');
  assert.doesNotMatch(r.message, /[\n\r\u2028\u202e]/);
  assert.match(r.message, /^invalid JSON: /);
  assert.equal(
    r.message,
    `invalid JSON: Unexpected token 'x', "x\\n{"level""... is not valid JSON`,
    'the quoted input is kept, escaped',
  );
  // through a feed reader: the error a source raises (and the runner logs) is one line
  assert.throws(
    () => parseMispJson(forged, 'event.json', 'misp1'),
    (e: StixgateError) => e.code === 'STIXGATE_ERR_INPUT_PARSE' && !/[\n\r\u2028\u202e]/.test(e.message),
  );
});

test('escapeText: C0/C1 controls, line and paragraph separators, bidi controls and backslashes become escapes; other text is kept', () => {
  assert.equal(
    escapeText('a\nb\rc\td\u0000e\u007f\u0085f\u2028g\u2029h\u202ei\u2066j\u200fk\\l'),
    'a\\nb\\rc\\td\\u0000e\\u007f\\u0085f\\u2028g\\u2029h\\u202ei\\u2066j\\u200fk\\\\l',
  );
  assert.equal(escapeText('évil.example — ünïcode 例'), 'évil.example — ünïcode 例');
});

test('F13: a duplicate key is rejected with the key, line and column of its second occurrence, at any depth', () => {
  const r = safeJsonParse('{\n  "a": 1,\n  "b": {"x": 1, "y": [ {"k": 1,\n "k": 2} ]},\n  "a": 3\n}');
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.reason, 'duplicate_key');
  assert.equal(r.message, 'duplicate key "k" at line 4, column 2');
  // the same key spelled with an escape is the same key
  const esc = safeJsonParse('{"name":"a","n\\u0061me":"b"}');
  assert.equal(esc.ok, false);
  if (!esc.ok) assert.equal(esc.message, 'duplicate key "name" at line 1, column 13');
  // equal keys in different objects, keys that look alike inside strings, and dropped keys are not duplicates
  assert.equal(safeJsonParse('[{"a":1},{"a":2}]').ok, true);
  assert.equal(safeJsonParse('{"a":"\\"a\\":1","b":{"a":1}}').ok, true);
  assert.equal(safeJsonParse('{"__proto__":{"x":1},"a":1}').ok, true);
  // a dangerous key given twice is still a duplicate (it is dropped, but the text is ambiguous)
  assert.equal(safeJsonParse('{"__proto__":1,"__proto__":2}').ok, false);
  // a caller that measured the depth (the bundle splitter) is checked the same way
  const known = safeJsonParse('{"a":1,"a":2}', { knownDepth: 1 });
  assert.equal(known.ok, false);
});

test('F13: -0 is read as 0 (one canonical number; no distinct id or sign reaches the store)', () => {
  const r = safeJsonParse('{"a":-0,"b":[-0.0,-0e5],"c":{"d":-0E-2},"e":"-0"}');
  assert.equal(r.ok, true);
  if (!r.ok) return;
  const v = r.value as { a: number; b: number[]; c: { d: number }; e: string };
  assert.ok(Object.is(v.a, 0));
  assert.ok(Object.is(v.b[0], 0) && Object.is(v.b[1], 0));
  assert.ok(Object.is(v.c.d, 0));
  assert.equal(v.e, '-0');
});
