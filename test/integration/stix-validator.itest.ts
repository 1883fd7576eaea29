import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { corpusPath, CORPUS_DIR, PROJECT_ROOT } from '../helpers/corpus.js';
import { assertValidStix, VALIDATOR_SKIP } from '../helpers/validator.js';
import type { StixObject } from '../../src/core/stix.js';
import { collectSource } from '../helpers/collect.js';
import { must } from '../helpers/must.js';

/**
 * Every object our mappers emit must pass the OASIS stix2-validator, and every pattern
 * stix2-patterns. The Python oracles run from the venv that scripts/integration.sh prepares.
 */

const SAMPLE = Number(process.env.STIXGATE_VALIDATE_SAMPLE ?? 3000);

function sample<T extends { type: string }>(objects: T[], max: number): T[] {
  if (objects.length <= max) return objects;
  const byType = new Map<string, T[]>();
  for (const o of objects) {
    const list = byType.get(o.type) ?? [];
    list.push(o);
    byType.set(o.type, list);
  }
  const out: T[] = [];
  const share = Math.max(50, Math.floor(max / byType.size));
  for (const list of byType.values()) {
    const step = Math.max(1, Math.ceil(list.length / share));
    for (let i = 0; i < list.length; i += step) out.push(must(list[i], 'list[i]'));
  }
  return out;
}

interface Case {
  name: string;
  type: string;
  file: string;
  options?: Record<string, unknown>;
}

const corpusCases: Case[] = [
  { name: 'ipsum', type: 'text_list', file: 'ipsum/ipsum.txt' },
  { name: 'spamhaus-drop-legacy', type: 'text_list', file: 'spamhaus-drop/drop.legacy.txt' },
  {
    name: 'spamhaus-drop-v4',
    type: 'csv',
    file: 'spamhaus-drop/drop_v4.json',
    options: { mapping: 'spamhaus_drop_json' },
  },
  { name: 'et-compromised', type: 'text_list', file: 'ip-lists-et-tor/et-compromised-ips.txt' },
  { name: 'tor-exits', type: 'text_list', file: 'ip-lists-et-tor/tor-exit-nodes.secops.lst' },
  {
    name: 'feodotracker',
    type: 'csv',
    file: 'abusech/feodotracker/ipblocklist.csv',
    options: { mapping: 'feodotracker' },
  },
  { name: 'sslbl', type: 'csv', file: 'abusech/sslbl/sslipblacklist.csv', options: { mapping: 'sslbl_ip' } },
  { name: 'cisa-kev', type: 'cisa_kev', file: 'cisa-kev/known_exploited_vulnerabilities.json' },
  { name: 'attack-ics', type: 'stix_bundle', file: 'mitre-attack/ics-attack-18.1.json' },
];
for (const dir of ['stix2-cti-documentation/example_json']) {
  const p = join(CORPUS_DIR, dir);
  if (existsSync(p))
    for (const f of readdirSync(p).filter((x) => x.endsWith('.json')))
      corpusCases.push({ name: `${dir}/${f}`, type: 'stix_bundle', file: join(dir, f) });
}

// the OASIS python-stix2 FileSystemStore trees: STIX 2.0 objects (upgraded on the way in) and 2.1
for (const ver of ['v20', 'v21']) {
  const root = join(CORPUS_DIR, 'oasis-stix2-test-data', 'python-stix2', ver, 'stix2_data');
  if (!existsSync(root)) continue;
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.json') ? [join(d, e.name)] : [],
    );
  for (const f of walk(root).sort())
    corpusCases.push({
      name: `oasis ${ver} ${f.slice(root.length + 1)}`,
      type: 'stix_bundle',
      file: f.slice(CORPUS_DIR.length + 1),
    });
}

const fixtureCases: Case[] = [
  {
    name: 'fixture-text-list',
    type: 'text_list',
    file: join(PROJECT_ROOT, 'test', 'fixtures', 'validator', 'mixed-list.txt'),
  },
];

test('emitted objects pass stix2-validator and patterns pass stix2-patterns', {
  skip: VALIDATOR_SKIP,
  timeout: 600_000,
}, async (t) => {
  const bundles: [string, StixObject[]][] = [];
  for (const c of [...fixtureCases, ...corpusCases]) {
    const abs = c.file.startsWith('/')
      ? { path: c.file, skip: existsSync(c.file) ? false : 'missing' }
      : corpusPath(c.file);
    if (abs.skip) {
      t.diagnostic(`skipped ${c.name}: ${abs.skip}`);
      continue;
    }
    const all = (await collectSource(c.type, abs.path, c.options)).objects;
    assert.ok(all.length > 0, `${c.name} produced no objects`);
    // the Python validator runs at ~300 objects/s: large feeds are validated on an even sample
    // (every object of a type with few members, every k-th indicator otherwise)
    const objects = sample(all, SAMPLE);
    if (objects.length < all.length)
      t.diagnostic(`${c.name}: validating ${objects.length} of ${all.length} objects (even sample)`);
    bundles.push([c.name, objects]);
  }
  const reports = assertValidStix(bundles, (m) => t.diagnostic(m));
  assert.ok([...reports.values()].reduce((n, r) => n + r.objects, 0) > 0);
});

test('every paired golden expectation (test/golden/paired) passes stix2-validator and stix2-patterns', {
  skip: VALIDATOR_SKIP,
}, async () => {
  const { pairedCases } = await import('../golden/paired-case.js');
  const { readFileSync } = await import('node:fs');
  const bundles: [string, StixObject[]][] = [];
  for (const c of pairedCases()) {
    const expected = JSON.parse(readFileSync(join(c.dir, 'expected.json'), 'utf8')) as { objects: StixObject[] };
    if (expected.objects.length) bundles.push([`${c.type}/${c.name}`, expected.objects]);
  }
  assert.ok(bundles.length > 0, 'no paired golden cases');
  assertValidStix(bundles);
});
