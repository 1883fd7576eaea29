import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stixBundleSource } from '../../integrations/stix_bundle/index.js';
import { isSco } from '../../src/core/stix.js';
import { CORPUS_DIR, corpusPath } from '../helpers/corpus.js';
import { compareGolden, runFiles } from './golden-case.js';
import { must } from '../helpers/must.js';

/** Every .json file under a folder, sorted. */
function jsonFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.json')) out.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** Independent pass: the objects of each file by JSON.parse of the whole file. */
function parsedObjects(files: string[]): { objects: Record<string, unknown>[]; unparsable: number } {
  const objects: Record<string, unknown>[] = [];
  let unparsable = 0;
  for (const f of files) {
    let v: unknown;
    try {
      v = JSON.parse(readFileSync(f, 'utf8'));
    } catch {
      unparsable++;
      continue;
    }
    if (Array.isArray(v)) objects.push(...(v as Record<string, unknown>[]));
    else if (v && typeof v === 'object' && Array.isArray((v as { objects?: unknown }).objects))
      objects.push(...(v as { objects: Record<string, unknown>[] }).objects);
    else objects.push(v as Record<string, unknown>);
  }
  return { objects, unparsable };
}

const CASES: { name: string; rel: string; single?: boolean }[] = [
  { name: 'cti-documentation-examples', rel: 'stix2-cti-documentation/example_json' },
  { name: 'json-schemas-examples', rel: 'stix2-json-schemas/examples' },
  { name: 'oasis-python-stix2-v20', rel: 'oasis-stix2-test-data/python-stix2/v20' },
  { name: 'oasis-python-stix2-v21', rel: 'oasis-stix2-test-data/python-stix2/v21' },
  { name: 'oasis-validator-v20-examples', rel: 'oasis-stix2-test-data/stix-validator/v20/test_examples' },
  { name: 'oasis-validator-v21-examples', rel: 'oasis-stix2-test-data/stix-validator/v21/test_examples' },
  { name: 'mitre-attack-ics-18.1', rel: 'mitre-attack/ics-attack-18.1.json', single: true },
];

for (const c of CASES) {
  const p = corpusPath(c.rel);
  test(`golden stix_bundle: ${c.name}`, { skip: p.skip }, async () => {
    const files = c.single ? [p.path] : jsonFiles(p.path);
    assert.ok(files.length > 0);
    const { collected, result } = await runFiles(stixBundleSource, files, {});
    compareGolden(`stix_bundle-${c.name}`, result);
    const { objects, unparsable } = parsedObjects(files);
    const docErrors = Object.values(result.documentErrors).reduce((a, b) => a + b, 0);
    // A file JSON.parse refuses is refused whole, or (one object with a syntax error) rejected as `parse`.
    const parseRejected = result.rejectedByReason.parse ?? 0;
    assert.equal(docErrors + parseRejected, unparsable, 'exactly the files JSON.parse refuses are refused');
    assert.equal(result.received, objects.length + parseRejected, 'every object read once');
    assert.equal(
      result.objects + result.rejected,
      objects.length + parseRejected,
      'each object either mapped or rejected',
    );
    // Every parsed object is accounted for by id: among the items, or named by its rejection.
    const itemIds = new Set(collected.items.map((i) => i.object.id));
    const rejectedIds = new Set(collected.rejections.map((r) => r.location?.objectId));
    for (const o of objects) {
      if (typeof o.id === 'string' && o.id.includes('--'))
        assert.ok(itemIds.has(o.id) || rejectedIds.has(o.id.slice(0, 120)), `${o.id} accounted for`);
    }
    // 2.1 on the way out, always.
    for (const it of collected.items)
      if (!isSco(it.object.type)) assert.equal(it.object.spec_version, '2.1', it.object.id);
    assert.ok(!itemIds.has('indicator--00000000-0000-4000-8000-000000000000'));
  });
}

test('golden stix_bundle: ATT&CK ICS spot checks', {
  skip: corpusPath('mitre-attack/ics-attack-18.1.json').skip,
}, async () => {
  const file = join(CORPUS_DIR, 'mitre-attack/ics-attack-18.1.json');
  const { collected } = await runFiles(stixBundleSource, [file], {});
  const bundle = JSON.parse(readFileSync(file, 'utf8')) as { id: string; objects: { id: string; type: string }[] };
  const ids = new Set(collected.items.map((i) => i.object.id));
  const picks = [
    bundle.objects[0],
    must(
      bundle.objects.find((o) => o.type === 'malware'),
      "bundle.objects.find((o) => o.type === 'malware')",
    ),
    must(
      bundle.objects.find((o) => o.type === 'relationship'),
      "bundle.objects.find((o) => o.type === 'relationship')",
    ),
  ];
  for (const o of picks) assert.ok(ids.has(must(o, 'o').id), `${must(o, 'o').id} present`);
  assert.ok(!ids.has(bundle.id), 'the bundle itself is not an object');
  assert.ok(!ids.has('attack-pattern--00000000-0000-4000-8000-000000000000'));
  assert.equal(collected.pages, Math.ceil(bundle.objects.length / 1000));
});
