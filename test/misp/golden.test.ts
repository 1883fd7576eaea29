import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN_DIR as DIR, goldenEvents, mapGolden } from '../helpers/misp-golden.js';

/**
 * Paired golden files: each `test/fixtures/misp/golden/<name>.event.json` (a small realistic MISP
 * event written for the test) and its full expected bundle `<name>.bundle.json`, reviewed by
 * hand. The mapping is compared object by object. With STIXGATE_GOLDEN_WRITE=1 a differing
 * mapping is written next to the expected file as `<name>.bundle.new.json` and the test still
 * fails: the expected file is only ever replaced by a person, after reading the diff.
 */
for (const file of goldenEvents()) {
  const name = file.slice(DIR.length + 1, -'.event.json'.length);
  test(`misp golden: ${name} maps to its reviewed bundle, object by object`, () => {
    const { objects, rejections } = mapGolden(file);
    const got = { type: 'bundle', id: `bundle--golden-${name}`, objects, x_stixgate_rejections: rejections };
    const expectedFile = join(DIR, `${name}.bundle.json`);
    const expected = existsSync(expectedFile)
      ? (JSON.parse(readFileSync(expectedFile, 'utf8')) as typeof got)
      : undefined;
    const same = expected !== undefined && JSON.stringify(expected) === JSON.stringify(got);
    if (!same && process.env.STIXGATE_GOLDEN_WRITE === '1')
      writeFileSync(join(DIR, `${name}.bundle.new.json`), `${JSON.stringify(got, null, 2)}\n`);
    assert.ok(expected, `${expectedFile} is missing (STIXGATE_GOLDEN_WRITE=1 writes a candidate to review)`);
    const want = new Map(expected.objects.map((o) => [o.id, o]));
    const have = new Map(objects.map((o) => [o.id, o]));
    assert.deepEqual(
      [...have.keys()].filter((id) => !want.has(id)),
      [],
      'objects the mapping made that the golden bundle lacks',
    );
    assert.deepEqual(
      [...want.keys()].filter((id) => !have.has(id)),
      [],
      'objects of the golden bundle the mapping no longer makes',
    );
    for (const [id, o] of want) assert.deepEqual(have.get(id), o, id);
    assert.deepEqual(
      objects.map((o) => o.id),
      expected.objects.map((o) => o.id),
      'object order',
    );
    assert.deepEqual(rejections, expected.x_stixgate_rejections);
  });
}
