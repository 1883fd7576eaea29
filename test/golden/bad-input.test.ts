import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { StixgateError } from '../../src/core/errors.js';
import { textListSource } from '../../integrations/text_list/index.js';
import { csvSource } from '../../integrations/csv/index.js';
import { stixBundleSource } from '../../integrations/stix_bundle/index.js';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { collect } from './run-source.js';
import { must } from '../helpers/must.js';

/** Bad-input cases (FAULTS F1-F5, F12-F14, F17) for the document sources. */

const FIX = join(PROJECT_ROOT, 'test', 'fixtures', 'sources');
const dir = mkdtempSync(join(tmpdir(), 'stixgate-bad-'));
function tmp(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}
const protoBefore = Object.getOwnPropertyNames(Object.prototype).length;

async function rejects(p: Promise<unknown>, code: string, reason: string): Promise<StixgateError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof StixgateError, `expected a StixgateError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.reason, reason);
    return e;
  }
  assert.fail(`expected ${code}`);
}

const INLINE = { columns: { value: 'value', type: 'auto' } };

test('F1: a 0-byte document is "empty document" for every source, no page', async () => {
  const empty = tmp('empty.txt', '');
  for (const [def, own] of [
    [textListSource, {}],
    [csvSource, INLINE],
    [stixBundleSource, {}],
  ] as const) {
    const e = await rejects(collect(def as never, { url: empty, ...own }), 'STIXGATE_ERR_INPUT_EMPTY', 'empty');
    assert.match(e.message, /empty document/);
  }
  await rejects(collect(stixBundleSource, { url: tmp('ws.json', '  \n ') }), 'STIXGATE_ERR_INPUT_EMPTY', 'empty');
});

test('F2: a truncated bundle throws after its whole objects, and no page carries a cursor', async () => {
  const f = tmp(
    'trunc.json',
    '{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"identity","spec_version":"2.1","id":"identity--8c6af861-7b20-41ef-9b59-6344fd872a8f","created":"2016-08-08T15:50:10.983Z","modified":"2016-08-08T15:50:10.983Z","name":"x"},{"type":"ident',
  );
  const e = await rejects(collect(stixBundleSource, { url: f }), 'STIXGATE_ERR_INPUT_PARSE', 'truncated');
  assert.equal(e.location?.index, 1);
});

test('F2: a CSV cut inside a quoted field rejects only that row', async () => {
  const c = await collect(csvSource, { url: tmp('trunc.csv', 'value,k\n1.2.3.4,a\n"5.6.7.8,b'), ...INLINE });
  assert.equal(c.items.length, 1);
  assert.deepEqual(
    c.rejections.map((r) => [r.reason, r.location?.line]),
    [['bad_quotes', 3]],
  );
});

test('F3: wrong column count, BOM, mixed CRLF/LF, embedded newline, Latin-1, NUL, formula: row by row', async () => {
  const c = await collect(csvSource, { url: join(FIX, 'mixed.csv'), ...INLINE });
  assert.equal(c.received, 7);
  assert.deepEqual(
    c.items.map((i) => i.object.name),
    ['1.2.3.4', '5.6.7.8', '9.9.9.9'],
  );
  assert.deepEqual(
    c.rejections.map((r) => [r.reason, r.location?.line]),
    [
      ['column_count', 6],
      ['encoding', 7],
      ['encoding', 8],
      [must(c.rejections[3], 'c.rejections[3]').reason, 9],
    ],
  );
  // F4: the formula is refused by the normaliser, and quoted (escaped) in the message.
  const formula = must(c.rejections[3], 'c.rejections[3]');
  assert.notEqual(formula.reason, 'encoding');
  assert.ok(!formula.message.includes("=cmd|' /C calc'!A0,"), formula.message);
});

test('F3: an unbalanced quote rejects its row with the line, and parsing resyncs', async () => {
  const c = await collect(csvSource, {
    url: join(FIX, 'unbalanced-quote.csv'),
    columns: { value: 'ip', type: 'ipv4-addr' },
  });
  assert.deepEqual(
    c.items.map((i) => i.object.name),
    ['1.2.3.4', '9.9.9.9'],
  );
  assert.deepEqual(
    c.rejections.map((r) => [r.reason, r.location?.line]),
    [['bad_quotes', 3]],
  );
});

test('F3: text after a closing quote: line and column', async () => {
  const c = await collect(csvSource, { url: tmp('q.csv', 'value,k\n"1.2.3.4"x,a\n5.6.7.8,b\n'), ...INLINE });
  assert.equal(c.items.length, 1);
  assert.deepEqual(
    c.rejections.map((r) => [r.reason, r.location?.line, r.location?.column]),
    [['bad_quotes', 2, 10]],
  );
});

test('F3: too many bad rows: the last page is yielded without cursor, then TOO_MANY_BAD_ROWS', async () => {
  const f = tmp('bad.txt', '1.2.3.4\nnot an ip!\n???\n5.6.7.8\n');
  const pages: number[] = [];
  let err: unknown;
  try {
    // judged from 4 records on (the default minimum, 10, would accept this small list record by record)
    const c = await collect(
      textListSource,
      { url: f, value_type: 'ipv4-addr' },
      { common: { max_bad_ratio: 0.2, bad_ratio_min_records: 4 } },
    );
    pages.push(c.pages);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof StixgateError);
  assert.equal(err.code, 'STIXGATE_ERR_INPUT_TOO_MANY_BAD_ROWS');
  assert.match(err.message, /2 of 4 records rejected/);
  const ok = await collect(
    textListSource,
    { url: f, value_type: 'ipv4-addr' },
    { common: { max_bad_ratio: 0.5, bad_ratio_min_records: 4 } },
  );
  assert.equal(ok.cursors.length, 1);
});

test('F5: a document over maxBytes is refused as too_large (file and gzip)', async () => {
  const big = tmp('big.txt', '1.2.3.4\n'.repeat(1000));
  await rejects(
    collect(textListSource, { url: big }, { common: { max_feed_bytes: 1024 } }),
    'STIXGATE_ERR_INPUT_TOO_LARGE',
    'too_large',
  );
  const bomb = tmp('bomb.txt.gz', gzipSync(Buffer.alloc(2_000_000, 0x41)));
  await rejects(
    collect(textListSource, { url: bomb }, { common: { max_feed_bytes: 100_000 } }),
    'STIXGATE_ERR_INPUT_TOO_LARGE',
    'too_large',
  );
  const ok = tmp('list.txt.gz', gzipSync('1.2.3.4\n5.6.7.8\n'));
  assert.equal((await collect(textListSource, { url: ok })).items.length, 2);
});

test('binary input is refused whole; a stray NUL or bad byte rejects one line', async () => {
  await rejects(
    collect(textListSource, { url: tmp('bin.txt', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 0, 0, 1, 2])) }),
    'STIXGATE_ERR_INPUT_ENCODING',
    'encoding',
  );
  const c = await collect(textListSource, {
    url: tmp('enc.txt', Buffer.concat([Buffer.from('1.2.3.4\n\xff\xfe1.2.3.5\n', 'latin1'), Buffer.from('5.6.7.8\n')])),
  });
  assert.deepEqual(
    c.rejections.map((r) => [r.reason, r.location?.line]),
    [['encoding', 2]],
  );
  assert.equal(c.items.length, 2);
});

test('a 10 MB line is rejected as too_long without stopping the list', async () => {
  const f = tmp('long.txt', `1.2.3.4\n${'a'.repeat(10 * 1024 * 1024)}\n5.6.7.8\n${'b'.repeat(70000)}`);
  const c = await collect(textListSource, { url: f });
  assert.deepEqual(
    c.items.map((i) => i.object.name),
    ['1.2.3.4', '5.6.7.8'],
  );
  assert.deepEqual(
    c.rejections.map((r) => [r.reason, r.location?.line]),
    [
      ['too_long', 2],
      ['too_long', 4],
    ],
  );
});

test('text list: comments, inline comments, tabs, ports, CIDRs, pages of ~5,000 with the cursor on the last', async () => {
  const lines = ['# c', '; c', '// c', '', '1.2.3.0/24 ; SBL123', '9.8.7.6\t12', '4.4.4.4:8080', 'bad..value'];
  for (let i = 0; i < 12000; i++) lines.push(`10.${(i >> 8) & 255}.${i & 255}.1`);
  const c = await collect(textListSource, { url: tmp('list.txt', lines.join('\n')) });
  assert.equal(c.items.length, 12003);
  assert.deepEqual(
    c.items.slice(0, 3).map((i) => i.object.pattern),
    ["[ipv4-addr:value = '1.2.3.0/24']", "[ipv4-addr:value = '9.8.7.6']", "[ipv4-addr:value = '4.4.4.4']"],
  );
  assert.equal(c.rejections.length, 1);
  assert.equal(must(c.rejections[0], 'c.rejections[0]').location?.line, 8);
  assert.ok(c.pages >= 2 && c.pageSizes.every((n) => n <= 5000 + 9000));
  assert.deepEqual(
    c.cursors.map((x) => x.page),
    [c.pages - 1],
  );
});

test('F12: __proto__ / constructor keys are dropped at any depth, prototypes untouched', async () => {
  const f = tmp(
    'proto.json',
    JSON.stringify({
      type: 'bundle',
      id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d',
      objects: [
        {
          type: 'identity',
          spec_version: '2.1',
          id: 'identity--8c6af861-7b20-41ef-9b59-6344fd872a8f',
          created: '2016-08-08T15:50:10.983Z',
          modified: '2016-08-08T15:50:10.983Z',
          name: 'x',
          x_deep: { a: { constructor: { prototype: { polluted: 1 } } } },
        },
      ],
    }).replace('"name"', '"__proto__":{"polluted":true},"name"'),
  );
  const c = await collect(stixBundleSource, { url: f });
  assert.equal(c.items.length, 1);
  const o = must(c.items[0], 'c.items[0]').object as Record<string, unknown>;
  assert.ok(!Object.hasOwn(o, '__proto__'));
  assert.deepEqual(o.x_deep, { a: {} });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getOwnPropertyNames(Object.prototype).length, protoBefore);
});

test('F13: 200k-deep nesting, 1e999, huge arrays: rejected per object, the rest kept', async () => {
  const good =
    '{"type":"identity","spec_version":"2.1","id":"identity--8c6af861-7b20-41ef-9b59-6344fd872a8f","created":"2016-08-08T15:50:10.983Z","modified":"2016-08-08T15:50:10.983Z","name":"x"}';
  const deep = `{"type":"identity","x":${'['.repeat(200000)}${']'.repeat(200000)}}`;
  const inf =
    '{"type":"identity","spec_version":"2.1","id":"identity--9c6af861-7b20-41ef-9b59-6344fd872a8f","created":"2016-08-08T15:50:10.983Z","modified":"2016-08-08T15:50:10.983Z","name":"x","x_n":1e999}';
  const arr = `{"type":"identity","spec_version":"2.1","id":"identity--ac6af861-7b20-41ef-9b59-6344fd872a8f","created":"2016-08-08T15:50:10.983Z","modified":"2016-08-08T15:50:10.983Z","name":"x","x_a":[${new Array(200001).fill(0).join(',')}]}`;
  const c = await collect(stixBundleSource, { url: tmp('f13.json', `[${deep},${good},${inf},${arr}]`) });
  assert.deepEqual(
    c.items.map((i) => i.object.id),
    ['identity--8c6af861-7b20-41ef-9b59-6344fd872a8f'],
  );
  assert.deepEqual(
    c.rejections.map((r) => [r.reason, r.location?.index]),
    [
      ['too_deep', 0],
      ['number_out_of_range', 2],
      ['field_too_large', 3],
    ],
  );
});

test('F14: invalid objects are rejected one by one with reason, index and id; 2.0 is upgraded', async () => {
  const c = await collect(stixBundleSource, { url: join(FIX, 'bad-objects.json') });
  assert.equal(c.received, 10);
  assert.deepEqual(
    c.rejections.map((r) => [r.reason, r.location?.index]),
    [
      ['missing_property', 1],
      ['missing_property', 2],
      ['id_type_mismatch', 3],
      ['bad_timestamp', 4],
      ['pattern_invalid', 5],
      ['bad_ref', 6],
      ['not_object', 8],
      ['bad_id', 9],
    ],
  );
  assert.equal(
    must(c.rejections[2], 'c.rejections[2]').location?.objectId,
    'indicator--2e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',
  );
  const [ind, mal] = c.items.map((i) => i.object);
  assert.equal(must(ind, 'ind').spec_version, '2.1');
  assert.deepEqual(must(ind, 'ind').indicator_types, ['malicious-activity']);
  assert.equal(must(ind, 'ind').labels, undefined);
  assert.equal(must(ind, 'ind').pattern_type, 'stix');
  assert.deepEqual(must(mal, 'mal').malware_types, ['trojan']);
  assert.equal(must(mal, 'mal').is_family, true);
});

test('F17: field caps and the per-object size cap', async () => {
  const base = {
    type: 'identity',
    spec_version: '2.1',
    created: '2016-08-08T15:50:10.983Z',
    modified: '2016-08-08T15:50:10.983Z',
    name: 'x',
  };
  const objs = [
    { ...base, id: 'identity--1c6af861-7b20-41ef-9b59-6344fd872a8f', description: 'd'.repeat(2000) },
    { ...base, id: 'identity--2c6af861-7b20-41ef-9b59-6344fd872a8f', labels: new Array(1001).fill('l') },
    { ...base, id: 'identity--3c6af861-7b20-41ef-9b59-6344fd872a8f', x_big: 'z'.repeat(10000) },
    { ...base, id: 'identity--4c6af861-7b20-41ef-9b59-6344fd872a8f' },
  ];
  const c = await collect(stixBundleSource, {
    url: tmp(
      'f17.json',
      JSON.stringify({ type: 'bundle', id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d', objects: objs }),
    ),
    max_description_chars: 1024,
    max_object_bytes: 8192,
  });
  assert.deepEqual(
    c.rejections.map((r) => [r.reason, r.location?.index]),
    [
      ['field_too_large', 0],
      ['field_too_large', 1],
      ['too_large', 2],
    ],
  );
  assert.deepEqual(
    c.items.map((i) => i.object.id),
    ['identity--4c6af861-7b20-41ef-9b59-6344fd872a8f'],
  );
});

test('F13: an object with a duplicate key is rejected with the key and its location; -0 is stored as 0', async () => {
  const base =
    '"type":"identity","spec_version":"2.1","created":"2016-08-08T15:50:10.983Z","modified":"2016-08-08T15:50:10.983Z"';
  const dup = `{${base},"id":"identity--8c6af861-7b20-41ef-9b59-6344fd872a8f","name":"x","name":"y"}`;
  const neg = `{${base},"id":"identity--9c6af861-7b20-41ef-9b59-6344fd872a8f","name":"z","confidence":-0}`;
  const c = await collect(stixBundleSource, {
    url: tmp(
      'f13-dup.json',
      `{"type":"bundle","id":"bundle--1c6af861-7b20-41ef-9b59-6344fd872a8f","objects":[${dup},\n${neg}]}`,
    ),
  });
  assert.deepEqual(
    c.items.map((i) => i.object.id),
    ['identity--9c6af861-7b20-41ef-9b59-6344fd872a8f'],
  );
  assert.ok(Object.is(must(c.items[0], 'c.items[0]').object.confidence, 0));
  assert.deepEqual(
    c.rejections.map((r) => [r.reason, r.location?.index]),
    [['duplicate_key', 0]],
  );
  assert.match(must(c.rejections[0], 'c.rejections[0]').message, /^duplicate key "name" at line 1, column \d+$/);
});
