import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapTextLineValues, type MapContext, type TextLineOptions } from './list-values.js';

const ctx: MapContext = { now: '2026-03-01T12:00:00.000Z', sourceId: 'freetext', defaults: { labels: [] } };
const auto: TextLineOptions = { valueType: 'auto', commentPrefixes: ['#'] };

function values(line: string, o: TextLineOptions = auto): string[] {
  return mapTextLineValues(line, 1, o, ctx).flatMap((r) =>
    'kind' in r ? [] : r.ok ? [String(r.item.object.pattern)] : [`rejected:${r.rejection.reason}`],
  );
}

test('issue 14: a free-text line holding two values keeps both (MISP freetext feeds, hosts-style lists)', () => {
  assert.deepEqual(values('198.51.100.7 evil.example'), [
    "[ipv4-addr:value = '198.51.100.7']",
    "[domain-name:value = 'evil.example']",
  ]);
  assert.deepEqual(values('evil.example,198.51.100.7'), [
    "[domain-name:value = 'evil.example']",
    "[ipv4-addr:value = '198.51.100.7']",
  ]);
  assert.deepEqual(values('http://evil.example/a.exe\t44d88612fea8a8f36de82e1278abb02f'), [
    "[url:value = 'http://evil.example/a.exe']",
    "[file:hashes.MD5 = '44d88612fea8a8f36de82e1278abb02f']",
  ]);
  // a URL keeps its commas and semicolons
  assert.deepEqual(values('http://evil.example/a;b=1,2 evil2.example'), [
    "[url:value = 'http://evil.example/a;b=1,2']",
    "[domain-name:value = 'evil2.example']",
  ]);
  // trailing text that is not a value is ignored, as before; a comment ends the values
  assert.deepEqual(values('1.10.16.0/20 ; SBL256894'), ["[ipv4-addr:value = '1.10.16.0/20']"]);
  assert.deepEqual(values('evil.example # seen with other.example'), ["[domain-name:value = 'evil.example']"]);
  // the same value twice on a line is one indicator
  assert.deepEqual(values('evil.example evil.example'), ["[domain-name:value = 'evil.example']"]);
  // the first token still decides the line's rejection
  assert.deepEqual(values('not_a_value'), ['rejected:invalid_domain']);
});

test('a declared type, field separator or count column keeps one value per line', () => {
  assert.deepEqual(values('198.51.100.7 evil.example', { ...auto, valueType: 'ipv4-addr' }), [
    "[ipv4-addr:value = '198.51.100.7']",
  ]);
  assert.deepEqual(values('198.51.100.7 5', { ...auto, countField: 1 }), ["[ipv4-addr:value = '198.51.100.7']"]);
  assert.deepEqual(values('198.51.100.7|evil.example', { ...auto, fieldSeparator: '|' }), [
    "[ipv4-addr:value = '198.51.100.7']",
  ]);
});
