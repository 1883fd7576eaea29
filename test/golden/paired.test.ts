/**
 * Paired golden files (issue 14): small realistic inputs of our own under test/fixtures/paired/
 * (STIX 1.x, OpenIOC, STIX 2.0 and 2.1 bundles), each with its full expected output —
 * every object and every rejection — in test/golden/expected/paired/<name>.json, reviewed by hand.
 * The comparison is object by object (by id), so a difference names the object that changed.
 * UPDATE_GOLDEN=1 rewrites the expected files (then read the diff before committing).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { StixObject } from '../../src/core/stix.js';
import { collectSource } from '../helpers/collect.js';
import { PROJECT_ROOT } from '../helpers/corpus.js';

const INPUTS = join(PROJECT_ROOT, 'test', 'fixtures', 'paired');
const EXPECTED = join(PROJECT_ROOT, 'test', 'golden', 'expected', 'paired');

interface Golden {
  objects: StixObject[];
  rejections: { reason: string; objectId?: string; line?: number; message: string }[];
}

/** The source type of a fixture, from its name (`stix1-…`, `openioc-…`, `stix_bundle-…`). */
function sourceType(file: string): string {
  return file.slice(0, file.indexOf('-'));
}

async function run(file: string): Promise<Golden> {
  const r = await collectSource(sourceType(file), join(INPUTS, file));
  return {
    objects: [...r.objects].sort((a, b) => a.id.localeCompare(b.id)),
    rejections: r.rejections.map((x) => ({
      reason: x.reason,
      ...(x.location?.objectId !== undefined ? { objectId: x.location.objectId } : {}),
      ...(x.location?.line !== undefined ? { line: x.location.line } : {}),
      message: x.message,
    })),
  };
}

const files = readdirSync(INPUTS).sort();

test('every paired fixture has an expected output, and every source format has a pair', () => {
  assert.deepEqual([...new Set(files.map(sourceType))].sort(), ['openioc', 'stix1', 'stix_bundle']);
  assert.ok(files.some((f) => f.startsWith('stix_bundle-2.0')) && files.some((f) => f.startsWith('stix_bundle-2.1')));
  if (process.env.UPDATE_GOLDEN !== '1') for (const f of files) assert.ok(existsSync(join(EXPECTED, `${f}.json`)), `no expected output for ${f}`);
});

for (const f of files) {
  test(`paired golden: ${f}`, async () => {
    const got = await run(f);
    const file = join(EXPECTED, `${f}.json`);
    if (process.env.UPDATE_GOLDEN === '1') {
      mkdirSync(EXPECTED, { recursive: true });
      writeFileSync(file, `${JSON.stringify(got, null, 2)}\n`);
      return;
    }
    const want = JSON.parse(readFileSync(file, 'utf8')) as Golden;
    assert.deepEqual(got.objects.map((o) => o.id), want.objects.map((o) => o.id), `${f}: the set of object ids differs`);
    for (let i = 0; i < want.objects.length; i++) assert.deepEqual(got.objects[i], want.objects[i], `${f}: ${want.objects[i].id} differs`);
    assert.deepEqual(got.rejections, want.rejections, `${f}: rejections differ`);
  });
}
