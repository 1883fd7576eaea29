import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isStixgateError } from '../../src/core/errors.js';
import type { SourceDefinition } from '../../src/pipeline/types.js';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { collect, summarise, type Collected, type GoldenSummary } from './run-source.js';
import { must } from '../helpers/must.js';

export const EXPECTED_DIR = join(PROJECT_ROOT, 'test', 'golden', 'expected');

export interface CaseResult extends GoldenSummary {
  /** Documents refused as a whole, by reason (multi-file cases). */
  documentErrors: Record<string, number>;
}

/** Runs one or more files through a source and merges the collected pages. */
export async function runFiles(
  def: SourceDefinition<any>,
  files: string[],
  own: Record<string, unknown>,
): Promise<{ collected: Collected; result: CaseResult }> {
  const merged: Collected = { items: [], rejections: [], received: 0, pages: 0, cursors: [], pageSizes: [] };
  const documentErrors: Record<string, number> = {};
  for (const f of files) {
    try {
      const c = await collect(def, { ...own, url: f });
      merged.items.push(...c.items);
      merged.rejections.push(...c.rejections);
      merged.received += c.received;
      merged.pages += c.pages;
      merged.cursors.push(...c.cursors);
    } catch (e) {
      if (!isStixgateError(e) || files.length === 1) throw e;
      documentErrors[e.reason] = (documentErrors[e.reason] ?? 0) + 1;
    }
  }
  return { collected: merged, result: { ...summarise(merged), documentErrors } };
}

/** Compares with test/golden/expected/<name>.json; UPDATE_GOLDEN=1 rewrites it. */
export function compareGolden(name: string, result: CaseResult): void {
  const file = join(EXPECTED_DIR, `${name}.json`);
  const text = `${JSON.stringify(result, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    if (process.env.UPDATE_GOLDEN !== '1' && process.env.CI)
      assert.fail(`golden file ${file} is missing (run with UPDATE_GOLDEN=1)`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return;
  }
  assert.deepEqual(
    result,
    JSON.parse(readFileSync(file, 'utf8')),
    `golden mismatch for ${name} (UPDATE_GOLDEN=1 rewrites; read the diff)`,
  );
}

/** Pattern values of the collected indicators (`[ipv4-addr:value = 'x']` → x). */
export function patternValues(c: Collected): Set<string> {
  const out = new Set<string>();
  for (const it of c.items) {
    const p = it.object.pattern;
    if (typeof p === 'string') {
      const m = /= '([^']*)'\]$/.exec(p);
      if (m) out.add(must(m[1], 'm[1]'));
    }
  }
  return out;
}

/** Independent count: distinct first tokens of the non-comment, non-blank lines of a text file. */
export function distinctFirstTokens(file: string, comments: string[] = ['#', ';', '//']): Set<string> {
  const out = new Set<string>();
  for (const raw of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || comments.some((c) => line.startsWith(c))) continue;
    out.add(must(line.split(/\s+/)[0], 'line.split(/\\s+/)[0]'));
  }
  return out;
}

/** Asserts that every value of `present` is in `values` and none of `absent` is. */
export function assertPresence(
  values: ReadonlySet<string>,
  present: readonly string[],
  absent: readonly string[],
): void {
  for (const v of present) assert.ok(values.has(v), `${v} must be present`);
  for (const v of absent) assert.ok(!values.has(v), `${v} must be absent`);
}
