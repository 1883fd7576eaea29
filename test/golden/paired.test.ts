import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registry } from '../../integrations/index.js';
import type { SourceDefinition } from '../../src/pipeline/types.js';
import { comparePaired, pairedCases, runPaired } from './paired-case.js';

// Every paired golden case (test/golden/paired/<type>/<case>/): input → the full expected mapping.
const cases = pairedCases();

test('every source format has a paired golden case, and every case names a registered source type', () => {
  const sources = registry.filter((d) => d.kind === 'source').map((d) => d.type);
  for (const c of cases) assert.ok(sources.includes(c.type), `${c.type} is not a source type`);
  const covered = new Set(cases.map((c) => c.type));
  assert.deepEqual(
    sources.filter((t) => !covered.has(t)),
    [],
    'source types without a paired golden case',
  );
  assert.ok(
    cases.some((c) => c.type === 'stix_bundle' && c.name.startsWith('v20')) &&
      cases.some((c) => c.type === 'stix_bundle' && c.name.startsWith('v21')),
    'STIX 2.0 and 2.1 bundles',
  );
});

for (const c of cases) {
  test(`paired golden ${c.type}/${c.name}`, async () => {
    const def = registry.find((d) => d.kind === 'source' && d.type === c.type) as SourceDefinition<unknown>;
    comparePaired(c, await runPaired(def, c));
  });
}
