import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS_DIR, PROJECT_ROOT } from '../helpers/corpus.js';
import { assertValidStix, VALIDATOR_SKIP } from '../helpers/validator.js';
import { safeJsonParse } from '../../src/core/safe-json.js';
import type { StixObject } from '../../src/core/stix.js';
import { MAPPINGS_DIR } from '../../src/paths.js';
import { eventsOf, mapEvent } from '../../integrations/misp/map.js';
import { loadMispTable } from '../../integrations/misp/table.js';
import { mispCorpusFiles } from '../../integrations/misp/oracle-compare.js';
import { must } from '../helpers/must.js';

/**
 * Every object the MISP mapper emits for the corpus and the all-types fixture passes stix2-validator,
 * every pattern stix2-patterns (the paired golden cases are validated by stix-validator.itest.ts).
 */

test('MISP mapping output passes stix2-validator and stix2-patterns', {
  skip: VALIDATOR_SKIP,
  timeout: 600_000,
}, (t) => {
  const table = loadMispTable(MAPPINGS_DIR);
  const byId = new Map<string, StixObject>();
  for (const f of [...mispCorpusFiles(CORPUS_DIR), join(PROJECT_ROOT, 'test/fixtures/misp/event-all-types.json')]) {
    const parsed = safeJsonParse(readFileSync(f, 'utf8'));
    assert.ok(parsed.ok);
    for (const ev of eventsOf(parsed.value))
      for (const it of mapEvent(ev, { now: '2026-03-01T12:00:00.000Z', table, name: f }).items)
        byId.set(it.object.id, it.object);
  }
  const objects = [...byId.values()];
  const counts: Record<string, number> = {};
  for (const o of objects) counts[o.type] = (counts[o.type] ?? 0) + 1;
  t.diagnostic(`objects by type: ${JSON.stringify(counts)}`);
  const reports = assertValidStix([['misp', objects]]);
  assert.equal(must(reports.get('misp'), "reports.get('misp')").objects, objects.length);
});
