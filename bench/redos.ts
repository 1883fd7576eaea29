/**
 * FAULTS F18 as a benchmark: every public function of the core model on the adversarial inputs
 * of test/helpers/adversarial.ts (100 KB strings, and inputs just under each length cap), timed
 * best of three after a warm-up. Target: every call under 50 ms. One row: the number of calls
 * timed, the slowest call (as p99_ms: the maximum) and the three slowest by name.
 */
import { performance } from 'node:perf_hooks';
import { normaliseObservable, detectObservable } from '../src/core/observable.js';
import {
  ADVERSARIAL,
  CATASTROPHIC_REGEXES,
  CATASTROPHIC_VALUES,
  NEAR_CAP,
  publicFunctions,
} from '../test/helpers/adversarial.js';
import { compilePatterns } from '../src/filter/regex-nfa.js';
import { round, type Row } from './lib.js';
import { must } from '../test/helpers/must.js';

function time(fn: () => unknown): number {
  const t0 = performance.now();
  try {
    fn();
  } catch {
    // rejections are expected; only the time counts here
  }
  return performance.now() - t0;
}

const best = (fn: () => unknown) => Math.min(time(fn), time(fn), time(fn));

export function runRedos(): Row[] {
  const calls: [string, () => unknown][] = [];
  for (const [fname, fn] of Object.entries(publicFunctions())) {
    for (const [iname, input] of Object.entries(ADVERSARIAL)) calls.push([`${fname}(${iname})`, () => fn(input)]);
  }
  for (const [name, [type, input]] of Object.entries(NEAR_CAP)) {
    calls.push([`normalise near cap (${name})`, () => normaliseObservable(type, input)]);
    calls.push([`detect near cap (${name})`, () => detectObservable(input)]);
  }
  // the warninglist / allowlist regex engine on patterns that hang backtracking engines
  const prog = compilePatterns(CATASTROPHIC_REGEXES);
  for (const v of CATASTROPHIC_VALUES) calls.push([`warninglist regexes (${v.length} chars)`, () => prog.search(v)]);
  for (const [, fn] of calls) for (let i = 0; i < 3; i++) time(fn); // warm the JIT
  const timed = calls.map(([name, fn]) => [name, best(fn)] as const).sort((a, b) => b[1] - a[1]);
  const slowest = must(timed[0], 'timed[0]')[1];
  return [
    {
      workload: 'F18',
      what: 'core functions on adversarial 100 KB / near-cap inputs (best of 3)',
      items: timed.length,
      p99_ms: round(slowest, 2),
      target: '< 50 ms per call',
      ratio: `${round(slowest / 50, 2)}× of the limit (${timed.filter(([, ms]) => ms >= 50).length} calls over)`,
      note: `slowest: ${timed
        .slice(0, 3)
        .map(([n, ms]) => `${n} ${round(ms, 1)} ms`)
        .join(', ')}`,
    },
  ];
}
