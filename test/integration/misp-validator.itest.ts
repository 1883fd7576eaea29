import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { CORPUS_DIR, PROJECT_ROOT } from '../helpers/corpus.js';
import { safeJsonParse } from '../../src/core/safe-json.js';
import type { StixObject } from '../../src/core/stix.js';
import { MAPPINGS_DIR } from '../../src/paths.js';
import { eventsOf, mapEvent } from '../../integrations/misp/map.js';
import { loadMispTable } from '../../integrations/misp/table.js';
import { mispCorpusFiles } from '../../integrations/misp/oracle-compare.js';

/** Every object the MISP mapper emits for the corpus passes stix2-validator, every pattern stix2-patterns. */
const python = process.env.STIXGATE_PYTHON;
const skip = python ? false : 'STIXGATE_PYTHON not set: run through scripts/integration.sh';

test('MISP mapping output passes stix2-validator and stix2-patterns', { skip, timeout: 600_000 }, (t) => {
  const table = loadMispTable(MAPPINGS_DIR);
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-misp-validate-'));
  const byId = new Map<string, StixObject>();
  for (const f of [...mispCorpusFiles(CORPUS_DIR), join(PROJECT_ROOT, 'test/fixtures/misp/event-all-types.json')]) {
    const parsed = safeJsonParse(readFileSync(f, 'utf8'));
    assert.ok(parsed.ok);
    for (const ev of eventsOf(parsed.value)) for (const it of mapEvent(ev, { now: '2026-03-01T12:00:00.000Z', table, name: f }).items) byId.set(it.object.id, it.object);
  }
  const objects = [...byId.values()];
  const counts: Record<string, number> = {};
  for (const o of objects) counts[o.type] = (counts[o.type] ?? 0) + 1;
  t.diagnostic(`objects by type: ${JSON.stringify(counts)}`);
  const file = join(dir, 'misp.json');
  writeFileSync(file, JSON.stringify({ type: 'bundle', id: 'bundle--6f8a1b9e-0d3c-4e4f-9a8b-1c2d3e4f5a6b', objects }));
  const r = spawnSync(python!, [join(PROJECT_ROOT, 'scripts/oracles/validate_stix.py'), file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const report = JSON.parse(r.stdout) as Record<string, { objects: number; invalid_count: number; invalid_objects: unknown[]; invalid_pattern_count: number; invalid_patterns: unknown[] }>;
  const rep = report[file];
  assert.equal(rep.objects, objects.length);
  assert.deepEqual(rep.invalid_objects, []);
  assert.deepEqual(rep.invalid_patterns, []);
  assert.equal(r.status, 0);
});
