import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registry } from '../../integrations/index.js';
import type { SourceDefinition } from '../../src/pipeline/types.js';
import { comparePaired, pairedCases, runPaired } from './paired-case.js';

// Every paired golden case (test/golden/paired/<type>/<case>/): input → the full expected mapping.
const cases = pairedCases();

test('paired golden cases exist for the source formats and name a registered source type', () => {
  assert.ok(cases.length > 0, 'no paired golden cases');
  for (const c of cases) assert.ok(registry.some((d) => d.kind === 'source' && d.type === c.type), `${c.type} is not a source type`);
});

for (const c of cases) {
  test(`paired golden ${c.type}/${c.name}`, async () => {
    const def = registry.find((d) => d.kind === 'source' && d.type === c.type) as SourceDefinition<unknown>;
    comparePaired(c, await runPaired(def, c));
  });
}
