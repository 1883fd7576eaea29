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
  assert.equal(r.message, `invalid JSON: Unexpected token 'x', "x\\n{"level""... is not valid JSON`, 'the quoted input is kept, escaped');
  // through a feed reader: the error a source raises (and the runner logs) is one line
  assert.throws(() => parseMispJson(forged, 'event.json', 'misp1'), (e: StixgateError) => e.code === 'STIXGATE_ERR_INPUT_PARSE' && !/[\n\r\u2028\u202e]/.test(e.message));
});

test('escapeText: C0/C1 controls, line and paragraph separators, bidi controls and backslashes become escapes; other text is kept', () => {
  assert.equal(escapeText('a\nb\rc\td\u0000e\u007f\u0085f\u2028g\u2029h\u202ei\u2066j\u200fk\\l'), 'a\\nb\\rc\\td\\u0000e\\u007f\\u0085f\\u2028g\\u2029h\\u202ei\\u2066j\\u200fk\\\\l');
  assert.equal(escapeText('évil.example — ünïcode 例'), 'évil.example — ünïcode 例');
});
