/**
 * Runs the fuzz targets with fast-check: each case is a seed and a mutation plan (mutate.ts),
 * checked against the invariants (invariants.ts). Used by the small slice in `npm test`
 * (fuzz.test.ts) and by the long mode, `npm run fuzz` (run.ts).
 */
import fc from 'fast-check';
import { applyPlan, planArb } from './mutate.js';
import { checkOutcome, InvariantError } from './invariants.js';
import type { FuzzTarget } from './targets.js';
import { must } from '../helpers/must.js';

export interface FuzzOptions {
  seed: number;
  numRuns: number;
  /** Stop a target after this many milliseconds (long mode); undefined: numRuns only. */
  timeLimitMs?: number;
}

export interface FuzzStats {
  target: string;
  runs: number;
  objects: number;
  rejections: number;
  /** Typed errors (documents rejected as a whole), by reason. */
  errors: Record<string, number>;
  /** Largest mutated input, in bytes. */
  maxInputBytes: number;
  /** Slowest case (informational; speed is the benchmark's business). */
  maxCaseMs: number;
  failure?: { message: string; input: string; seed: number; path?: string };
}

export async function fuzzTarget(t: FuzzTarget, o: FuzzOptions): Promise<FuzzStats> {
  const stats: FuzzStats = {
    target: t.name,
    runs: 0,
    objects: 0,
    rejections: 0,
    errors: {},
    maxInputBytes: 0,
    maxCaseMs: 0,
  };
  const prop = fc.asyncProperty(planArb(t.seeds.length), async (plan) => {
    const input = applyPlan(t.kind, must(t.seeds[plan.seed], 't.seeds[plan.seed]'), plan.steps);
    const started = performance.now();
    const r = await checkOutcome(input, () => t.run(input));
    stats.maxCaseMs = Math.max(stats.maxCaseMs, performance.now() - started);
    stats.maxInputBytes = Math.max(stats.maxInputBytes, Buffer.byteLength(input));
    stats.runs++;
    stats.objects += r.objects;
    stats.rejections += r.rejections;
    if (r.error) stats.errors[r.error] = (stats.errors[r.error] ?? 0) + 1;
  });
  const details = await fc.check(prop, {
    seed: o.seed,
    numRuns: o.numRuns,
    ...(o.timeLimitMs !== undefined ? { interruptAfterTimeLimit: o.timeLimitMs, markInterruptAsFailure: false } : {}),
  });
  if (details.failed) {
    const e = details.errorInstance;
    stats.failure = {
      message: e instanceof Error ? e.message : String(e),
      input: e instanceof InvariantError ? e.input.slice(0, 2000) : '',
      seed: details.seed,
      path: details.counterexamplePath ?? undefined,
    };
  }
  return stats;
}
