/**
 * The expected outputs of the paired golden files (test/golden/paired.test.ts checks that the
 * sources emit exactly them) pass the OASIS stix2-validator with 0 errors and their patterns
 * stix2-patterns.
 */
import { test } from 'node:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { assertValidStix, VALIDATOR_SKIP } from '../helpers/validator.js';
import type { StixObject } from '../../src/core/stix.js';

test('paired golden outputs (STIX 1.x, OpenIOC, STIX 2.0 and 2.1 bundles) pass stix2-validator', { skip: VALIDATOR_SKIP }, (t) => {
  const dir = join(PROJECT_ROOT, 'test', 'golden', 'expected', 'paired');
  const bundles: [string, StixObject[]][] = readdirSync(dir).sort().map((f) => [f, (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { objects: StixObject[] }).objects]);
  assertValidStix(bundles, (m) => t.diagnostic(m));
});
