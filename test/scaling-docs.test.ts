import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './helpers/corpus.js';

/**
 * docs/scaling.md shows the table `node scripts/capacity-model.mjs` computes from the recorded
 * constants: a change of a constant or of the model without the document fails here, and so does
 * an assumption given on the command line that the script ignores.
 */
const model = (...args: string[]) =>
  spawnSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'capacity-model.mjs'), ...args], { encoding: 'utf8' });

test('docs/scaling.md holds the capacity model table as the script computes it', () => {
  const r = model();
  assert.equal(r.status, 0, r.stderr);
  const table = r.stdout.trim();
  assert.equal(table.split('\n').length, 11, 'a header, a rule and nine rows');
  const doc = readFileSync(join(PROJECT_ROOT, 'docs', 'scaling.md'), 'utf8');
  assert.ok(doc.includes(table), 'docs/scaling.md carries the current table (run the script and paste its output)');
});

test('the model script takes assumptions and refuses unknown arguments', () => {
  const base = JSON.parse(model('--json').stdout) as { rows: { opensearch_disk_gb: number }[] };
  const heavy = JSON.parse(model('--json', '--objectSizeFactor', '3').stdout) as typeof base;
  assert.ok(
    (heavy.rows.at(-1)?.opensearch_disk_gb ?? 0) > 2 * (base.rows.at(-1)?.opensearch_disk_gb ?? 0),
    'three times the object size more than doubles the disk',
  );
  const bad = model('--nonsense', '1');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /unknown argument --nonsense/);
});
