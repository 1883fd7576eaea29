import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '../src/core/errors.js';
import { PROJECT_ROOT } from './helpers/corpus.js';

test('docs/errors.md lists exactly the error codes in src/core/errors.ts', () => {
  const doc = readFileSync(join(PROJECT_ROOT, 'docs', 'errors.md'), 'utf8');
  const documented = [...doc.matchAll(/`(STIXGATE_ERR_[A-Z_]+)`/g)].map((m) => m[1]).sort();
  assert.deepEqual(documented, Object.keys(ERROR_CODES).sort());
});
