import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { CORPUS_DIR, PROJECT_ROOT } from '../helpers/corpus.js';
import { collectXmlSource } from '../../integrations/stix1/collect.js';

/**
 * Every object the `stix1` and `openioc` sources emit (elevator idioms, OpenIOC corpus, our own
 * fixtures) must pass the OASIS stix2-validator, and every STIX pattern stix2-patterns. The Python
 * oracle runs from the venv scripts/integration.sh prepares (STIXGATE_PYTHON).
 */
const python = process.env.STIXGATE_PYTHON;
const skip = python ? false : 'STIXGATE_PYTHON not set: run through scripts/integration.sh';

interface Case { name: string; type: 'stix1' | 'openioc'; path: string }

function cases(): Case[] {
  const out: Case[] = [
    { name: 'fixture stix1-package', type: 'stix1', path: join(PROJECT_ROOT, 'test', 'fixtures', 'xml', 'stix1-package.xml') },
    { name: 'fixture openioc-1.1', type: 'openioc', path: join(PROJECT_ROOT, 'test', 'fixtures', 'xml', 'openioc-1.1-conditions.ioc') },
  ];
  const idioms = join(CORPUS_DIR, 'stix-elevator-idioms', 'idioms-xml');
  if (existsSync(idioms)) for (const f of readdirSync(idioms).filter((x) => x.endsWith('.xml')).sort()) out.push({ name: `idiom ${f}`, type: 'stix1', path: join(idioms, f) });
  for (const d of ['openioc/fireeye-iocs-1.0', 'openioc/ioc_writer-1.1/example_iocs', 'openioc/ioc_writer-1.1/tests-assets']) {
    const p = join(CORPUS_DIR, d);
    if (!existsSync(p)) continue;
    const walk = (dir: string): void => {
      for (const n of readdirSync(dir, { withFileTypes: true })) {
        if (n.isDirectory()) walk(join(dir, n.name));
        else if (n.name.endsWith('.ioc')) out.push({ name: `${d}/${n.name}`, type: 'openioc', path: join(dir, n.name) });
      }
    };
    walk(p);
  }
  const pairs = join(CORPUS_DIR, 'openioc', 'openioc-to-stix');
  if (existsSync(pairs)) for (const f of readdirSync(pairs).filter((x) => x.endsWith('.ioc.xml') || x.endsWith('.ioc'))) out.push({ name: `openioc-to-stix/${f}`, type: 'openioc', path: join(pairs, f) });
  return out;
}

test('stix1 and openioc output passes stix2-validator; STIX patterns pass stix2-patterns', { skip, timeout: 600_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-validate-xml-'));
  const files: string[] = [];
  const names = new Map<string, string>();
  for (const c of cases()) {
    const { objects } = await collectXmlSource(c.type, c.path);
    if (objects.length === 0) {
      t.diagnostic(`${c.name}: no objects (nothing to validate)`);
      continue;
    }
    const out = join(dir, `${files.length}.json`);
    writeFileSync(out, JSON.stringify({ type: 'bundle', id: 'bundle--00000000-0000-4000-8000-000000000000', objects }));
    files.push(out);
    names.set(out, c.name);
  }
  assert.ok(files.length >= 2);
  const r = spawnSync(python!, [join(PROJECT_ROOT, 'scripts', 'oracles', 'validate_stix.py'), ...files], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.ok(r.stdout, `validator printed nothing: ${r.stderr}`);
  const report = JSON.parse(r.stdout) as Record<string, { objects: number; invalid_count: number; invalid_pattern_count: number; invalid_objects: unknown[]; invalid_patterns: unknown[] }>;
  let total = 0;
  const failures: string[] = [];
  for (const [file, res] of Object.entries(report)) {
    total += res.objects;
    if (res.invalid_count || res.invalid_pattern_count) {
      failures.push(`${names.get(file)}: ${JSON.stringify(res.invalid_objects.slice(0, 2))} ${JSON.stringify(res.invalid_patterns.slice(0, 2))}`);
    }
  }
  t.diagnostic(`${files.length} documents, ${total} objects validated`);
  assert.deepEqual(failures, []);
  assert.equal(r.status, 0, r.stderr);
});
