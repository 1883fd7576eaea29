import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { must } from '../helpers/must.js';

const SECTIONS: [string, number][] = [
  ['F', 26],
  ['N', 12],
  ['S', 10],
  ['D', 8],
  ['P', 10],
  ['A', 15],
  ['C', 12],
  ['X', 12],
];
const STATUS = /^(tested|partly|none|not applicable yet|in progress: [a-z-]+)$/;

/** docs/faults.md lists the 105 FAULTS cases once each, with a known status, existing test files and true totals. */
test('docs/faults.md: every catalogue case once, a known status, test files that exist, totals that add up', () => {
  const doc = readFileSync(join(PROJECT_ROOT, 'docs/faults.md'), 'utf8');
  const rows = doc
    .split('\n')
    .filter((l) => /^\| [A-Z]\d+ \|/.test(l))
    .map((l) => l.split(' | ').map((c) => c.replace(/^\| | \|$/g, '')));
  const want = SECTIONS.flatMap(([p, n]) => Array.from({ length: n }, (_, i) => `${p}${i + 1}`));
  assert.deepEqual(
    rows.map((r) => r[0]),
    want,
  );
  const count: Record<string, number> = {};
  for (const [id, status, tests] of rows) {
    assert.match(must(status, 'status'), STATUS, id);
    const kind = must(status, 'status').startsWith('in progress') ? 'in progress' : status;
    count[must(kind, 'kind')] = (count[must(kind, 'kind')] ?? 0) + 1;
    if (status === 'tested' || status === 'partly') assert.notEqual(tests, '—', `${id} is ${status} but lists no test`);
    for (const file of must(tests, 'tests').match(/(?:test|src|integrations)\/[\w./-]+\.ts/g) ?? [])
      assert.ok(existsSync(join(PROJECT_ROOT, file)), `${id}: ${file} does not exist`);
  }
  const totals = `**${count.tested ?? 0} tested, ${count.partly ?? 0} partly, ${count.none ?? 0} none, ${count['not applicable yet'] ?? 0} not applicable yet, ${count['in progress'] ?? 0} in progress** (of 105)`;
  assert.ok(doc.includes(`Totals: ${totals}`), `the totals line should read: ${totals}`);
});
