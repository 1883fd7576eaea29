import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from './corpus.js';
import type { StixObject } from '../../src/core/stix.js';

/** The Python oracle environment scripts/integration.sh prepares, or a skip message. */
export const PYTHON = process.env.STIXGATE_PYTHON;
export const VALIDATOR_SKIP: string | false = PYTHON
  ? false
  : 'STIXGATE_PYTHON not set: run through scripts/integration.sh';

export interface BundleReport {
  objects: number;
  invalid_count: number;
  invalid_pattern_count: number;
  invalid_objects: unknown[];
  invalid_patterns: unknown[];
}

/**
 * Validates named object lists with the OASIS stix2-validator and every pattern with
 * stix2-patterns (scripts/oracles/validate_stix.py, one process for all), and asserts that
 * nothing is invalid. Returns the per-name reports.
 */
export function assertValidStix(
  bundles: Iterable<[string, StixObject[]]>,
  diagnostic?: (msg: string) => void,
): Map<string, BundleReport> {
  assert.ok(PYTHON, 'STIXGATE_PYTHON not set');
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-validate-'));
  try {
    const names = new Map<string, string>();
    for (const [name, objects] of bundles) {
      const file = join(dir, `${names.size}.json`);
      writeFileSync(
        file,
        JSON.stringify({ type: 'bundle', id: 'bundle--00000000-0000-4000-8000-000000000000', objects }),
      );
      names.set(file, name);
    }
    assert.ok(names.size > 0, 'nothing to validate');
    const r = spawnSync(PYTHON, [join(PROJECT_ROOT, 'scripts', 'oracles', 'validate_stix.py'), ...names.keys()], {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    });
    assert.ok(r.stdout, `validator printed nothing: ${r.stderr}`);
    const report = JSON.parse(r.stdout) as Record<string, BundleReport>;
    const out = new Map<string, BundleReport>();
    const failures: string[] = [];
    for (const [file, name] of names) {
      const res = report[file];
      assert.ok(res, `no report for ${name}`);
      out.set(name, res);
      diagnostic?.(
        `${name}: ${res.objects} objects, ${res.invalid_count} invalid, ${res.invalid_pattern_count} bad patterns`,
      );
      if (res.invalid_count || res.invalid_pattern_count)
        failures.push(
          `${name}: ${JSON.stringify(res.invalid_objects.slice(0, 3))} ${JSON.stringify(res.invalid_patterns.slice(0, 3))}`,
        );
    }
    assert.deepEqual(failures, []);
    assert.equal(r.status, 0, r.stderr);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
