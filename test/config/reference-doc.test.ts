import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeConfigReference } from '../../src/config/reference.js';
import { registry } from '../../integrations/index.js';
import { PROJECT_ROOT } from '../helpers/corpus.js';

test('docs/configuration.md is the reference generated from the schemas (regenerate: npx stixgate config-reference > docs/configuration.md)', () => {
  const doc = readFileSync(join(PROJECT_ROOT, 'docs', 'configuration.md'), 'utf8');
  assert.equal(doc, describeConfigReference(registry));
});
