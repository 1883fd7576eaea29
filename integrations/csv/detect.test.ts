/**
 * The generic CSV mode (no column map): the columns it chooses, and the report it gives, on
 * several layouts (test/fixtures/csv-detect/) and on the corpus CSV feeds, where it must read the
 * same indicators, with the same dates, as the prepared column maps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { csvSource } from './index.js';
import { collect, GOLDEN_NOW } from '../../test/golden/run-source.js';
import { PROJECT_ROOT, corpusPath } from '../../test/helpers/corpus.js';
import { DetectionError, detectColumns } from './detect.js';
import type { MappedItem } from '../../src/pipeline/types.js';
import { must } from '../../test/helpers/must.js';

const fixture = (name: string) => join(PROJECT_ROOT, 'test', 'fixtures', 'csv-detect', name);

const patterns = (items: MappedItem[]) => items.map((i) => i.object.pattern);
const byPattern = (items: MappedItem[]) =>
  new Map(
    items.map((i) => [
      i.object.pattern as string,
      { id: i.object.id, valid_from: i.object.valid_from, seenAt: i.seenAt },
    ]),
  );

test('header row, dates, malware and confidence by name', async () => {
  const c = await collect(csvSource, { url: fixture('header-row.csv') });
  assert.deepEqual(patterns(c.items), [
    "[ipv4-addr:value = '203.0.113.10']",
    "[ipv4-addr:value = '203.0.113.11']",
    "[ipv4-addr:value = '198.51.100.20']",
  ]);
  const first = must(c.items[0], 'c.items[0]');
  assert.equal(first.object.valid_from, '2026-05-01T10:00:00.000Z');
  assert.equal(first.seenAt, '2026-05-01T10:00:00.000Z');
  assert.equal(first.confidence, 75);
  assert.deepEqual(first.object.labels, ['malware:Emotet']);
  assert.equal(c.rejections.length, 0);
});

test('the report names every choice and its evidence', async () => {
  const pages: string[][] = [];
  const source = csvSource.create(
    { url: fixture('comment-header.csv'), max_feed_bytes: 1 << 20, max_bad_ratio: 1, labels: [] } as never,
    { configDir: PROJECT_ROOT, mappingsDir: join(PROJECT_ROOT, 'mappings') } as never,
  );
  for await (const p of source.pages({ id: 't', now: GOLDEN_NOW, signal: new AbortController().signal } as never))
    pages.push(p.explain ?? []);
  assert.deepEqual(pages, [
    [
      'csv detection: delimiter: "," (splits 3 sampled line(s) into the most consistent number of fields)',
      'csv detection: header: the comment line "first_seen_utc,dst_ip,dst_port,c2_status,last_online,malware"',
      'csv detection: value: column 1 "dst_ip": 100% of 3 sampled values are observables; type ipv4-addr (100%)',
      'csv detection: first_seen: column 0 "first_seen_utc" (values are times)',
      'csv detection: last_seen: column 4 "last_online" (values are times, name says last seen)',
      'csv detection: port: column 2 "dst_port" (by its name)',
      'csv detection: labels: column 3 "c2_status" (by its name)',
      'csv detection: malware: column 5 "malware" (by its name)',
    ],
  ]);
});

test('TSV with a hash column, semicolons without a header, mixed value types', async () => {
  const tsv = await collect(csvSource, { url: fixture('tsv-hashes.tsv') });
  assert.deepEqual(patterns(tsv.items), [
    `[file:hashes.'SHA-256' = '${'a'.repeat(64)}']`,
    `[file:hashes.'SHA-256' = '${'b'.repeat(64)}']`,
  ]);
  assert.deepEqual(must(tsv.items[0], 'tsv.items[0]').object.labels, ['exe', 'loader']);
  const semi = await collect(csvSource, { url: fixture('no-header-semicolon.csv') });
  assert.deepEqual(patterns(semi.items), [
    "[url:value = 'http://evil.example/login.php']",
    "[url:value = 'http://bad.example.net/a/b']",
    "[url:value = 'https://login.example.org/verify']",
  ]);
  assert.equal(must(semi.items[2], 'semi.items[2]').seenAt, '2026-05-03T00:00:00.000Z');
  const mixed = await collect(csvSource, { url: fixture('mixed-values.csv') });
  assert.deepEqual(
    mixed.items.map((i) => i.object.pattern),
    [
      "[ipv4-addr:value = '198.51.100.77']",
      "[domain-name:value = 'evil-domain.example']",
      "[url:value = 'http://198.51.100.77/x.sh']",
      "[file:hashes.MD5 = '5d41402abc4b2a76b9719d911017c592']",
    ],
  );
  assert.equal(must(mixed.items[1], 'mixed.items[1]').object.description, 'c2 domain');
});

test('a document with no observable column is refused with a reason, naming the remedy', async () => {
  await assert.rejects(
    collect(csvSource, { url: fixture('no-observables.csv') }),
    (e: Error & { reason?: string }) =>
      e.reason === 'no_value_column' &&
      /no column holds observables in at least half of 2 sampled row\(s\); give the source a column map/.test(
        e.message,
      ),
  );
});

test('detectColumns: a header row is not taken for data, a first data row is not taken for a header', () => {
  assert.equal(detectColumns(['ip,port', '192.0.2.1,80'], []).headerRow, true);
  assert.equal(detectColumns(['192.0.2.1,80', '192.0.2.2,81'], []).headerRow, false);
});

for (const [name, rel, mapping] of [
  ['feodotracker', 'abusech/feodotracker/ipblocklist.csv', 'feodotracker'],
  ['feodotracker prev1', 'abusech/feodotracker/ipblocklist.prev1.csv', 'feodotracker'],
  ['sslbl ip', 'abusech/sslbl/sslipblacklist.csv', 'sslbl_ip'],
] as const) {
  const p = corpusPath(rel);
  test(`corpus ${name}: the generic mode reads the indicators and dates the prepared map reads`, {
    skip: p.skip,
  }, async () => {
    const detected = await collect(csvSource, { url: p.path });
    const prepared = await collect(csvSource, { url: p.path, mapping });
    assert.ok(prepared.items.length > 10);
    assert.deepEqual(byPattern(detected.items), byPattern(prepared.items));
    assert.equal(detected.rejections.length, prepared.rejections.length);
  });
}

test('a sample where no line splits into fields is a DetectionError naming the delimiter, not a TypeError', () => {
  assert.throws(
    () => detectColumns(['"abc'], []),
    (e: unknown) => e instanceof DetectionError && /none of the 1 sampled line\(s\) splits/.test(e.message),
  );
});
