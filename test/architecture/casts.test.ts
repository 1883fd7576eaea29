import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../src/paths.js';
import { type CastKind, castsOf, countByFolder, isProduction, productionCasts } from './casts.js';

/**
 * The cast ratchet: the number of type assertions per production folder and kind may only go down.
 * `casts-baseline.json` holds the counts; lower it in the commit that removes casts
 * (`node --import tsx test/architecture/casts.ts --baseline` prints the current counts).
 */
const baseline = JSON.parse(readFileSync(new URL('./casts-baseline.json', import.meta.url), 'utf8')) as unknown;

const isCounts = (v: unknown): v is Record<string, Partial<Record<CastKind, number>>> =>
  typeof v === 'object' &&
  v !== null &&
  Object.values(v).every(
    (row) => typeof row === 'object' && row !== null && Object.values(row).every((n) => Number.isInteger(n)),
  );

describe('type assertions in production code', () => {
  it('counts as, as unknown as, as never, as any and ! but not as const, comments or strings', () => {
    const text = [
      'const a = x as T; const b = y as unknown as U; const c = z as never; const d = w as any;',
      'const e = v!; const f = [1] as const; // q as T',
      "const g = 's as T'; const h = <T>k;",
    ].join('\n');
    assert.deepEqual(
      castsOf('src/x.ts', text).map((c) => `${c.line}:${c.kind}:${c.text}`),
      ['1:as:T', '1:as-unknown-as:U', '1:as-never:never', '1:as-any:any', '2:non-null:v', '3:as:T'],
    );
  });

  it('leaves tests, test helpers and fixtures out', () => {
    assert.equal(isProduction('src/core/ids.ts'), true);
    assert.equal(isProduction('integrations/misp/map.ts'), true);
    assert.equal(isProduction('src/core/ids.test.ts'), false);
    assert.equal(isProduction('integrations/misp/test/kit.ts'), false);
    assert.equal(isProduction('integrations/misp/fixtures/a.ts'), false);
  });

  it('grows in no folder beyond casts-baseline.json', () => {
    assert.ok(isCounts(baseline), 'casts-baseline.json maps folders to counts per kind');
    const now = countByFolder(productionCasts(PROJECT_ROOT));
    const grown: string[] = [];
    for (const [folder, row] of Object.entries(now)) {
      for (const [kind, n] of Object.entries(row)) {
        const allowed = baseline[folder]?.[kind as CastKind] ?? 0;
        if (n > allowed) grown.push(`${folder} ${kind}: ${n} (baseline ${allowed})`);
      }
    }
    assert.deepEqual(
      grown,
      [],
      'new casts: use a validator, a type guard or a generic, or justify and raise the baseline',
    );
  });
});
