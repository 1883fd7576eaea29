import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS_DIR, PROJECT_ROOT } from '../helpers/corpus.js';
import { assertValidStix, VALIDATOR_SKIP } from '../helpers/validator.js';
import type { StixObject } from '../../src/core/stix.js';
import { collectXmlSource } from '../helpers/xml-source.js';

/**
 * Every object the `stix1` and `openioc` sources emit (elevator idioms, OpenIOC corpus, our own
 * fixtures) must pass the OASIS stix2-validator, and every STIX pattern stix2-patterns. The Python
 * oracle runs from the venv scripts/integration.sh prepares (STIXGATE_PYTHON).
 */

interface Case {
  name: string;
  type: 'stix1' | 'openioc';
  path: string;
}

function cases(): Case[] {
  const out: Case[] = [
    {
      name: 'fixture stix1-package',
      type: 'stix1',
      path: join(PROJECT_ROOT, 'test', 'fixtures', 'xml', 'stix1-package.xml'),
    },
    {
      name: 'fixture openioc-1.1',
      type: 'openioc',
      path: join(PROJECT_ROOT, 'test', 'fixtures', 'xml', 'openioc-1.1-conditions.ioc'),
    },
  ];
  const idioms = join(CORPUS_DIR, 'stix-elevator-idioms', 'idioms-xml');
  if (existsSync(idioms))
    for (const f of readdirSync(idioms)
      .filter((x) => x.endsWith('.xml'))
      .sort())
      out.push({ name: `idiom ${f}`, type: 'stix1', path: join(idioms, f) });
  for (const d of [
    'openioc/fireeye-iocs-1.0',
    'openioc/ioc_writer-1.1/example_iocs',
    'openioc/ioc_writer-1.1/tests-assets',
  ]) {
    const p = join(CORPUS_DIR, d);
    if (!existsSync(p)) continue;
    const walk = (dir: string): void => {
      for (const n of readdirSync(dir, { withFileTypes: true })) {
        if (n.isDirectory()) walk(join(dir, n.name));
        else if (n.name.endsWith('.ioc'))
          out.push({ name: `${d}/${n.name}`, type: 'openioc', path: join(dir, n.name) });
      }
    };
    walk(p);
  }
  const pairs = join(CORPUS_DIR, 'openioc', 'openioc-to-stix');
  if (existsSync(pairs))
    for (const f of readdirSync(pairs).filter((x) => x.endsWith('.ioc.xml') || x.endsWith('.ioc')))
      out.push({ name: `openioc-to-stix/${f}`, type: 'openioc', path: join(pairs, f) });
  return out;
}

test('stix1 and openioc output passes stix2-validator; STIX patterns pass stix2-patterns', {
  skip: VALIDATOR_SKIP,
  timeout: 600_000,
}, async (t) => {
  const bundles: [string, StixObject[]][] = [];
  for (const c of cases()) {
    const { objects } = await collectXmlSource(c.type, c.path);
    if (objects.length === 0) {
      t.diagnostic(`${c.name}: no objects (nothing to validate)`);
      continue;
    }
    bundles.push([c.name, objects]);
  }
  assert.ok(bundles.length >= 2);
  const reports = assertValidStix(bundles);
  t.diagnostic(
    `${bundles.length} documents, ${[...reports.values()].reduce((n, r) => n + r.objects, 0)} objects validated`,
  );
});
