/**
 * FAULTS F17/F18: every public function of the core model on 100 KB adversarial strings (and on
 * inputs just under each length cap, where the scanners really run) ends with a value or a typed
 * rejection. How long each call takes is measured by the `redos` benchmark (`npm run bench --
 * redos`, target < 50 ms per call), not here: a timing threshold fails on a loaded machine. A
 * catastrophic (exponential) pattern still fails this test, by its timeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseObservable, detectObservable } from '../../src/core/observable.js';
import { ADVERSARIAL, NEAR_CAP, fill, publicFunctions } from '../helpers/adversarial.js';
import { must } from '../helpers/must.js';

/** The function's answer, or the name of what it threw (only our own and built-in errors). */
function outcome(fn: () => unknown): string {
  try {
    const r = fn();
    return r === undefined ? 'undefined' : typeof r;
  } catch (e) {
    return e instanceof Error ? e.name : `non-error ${typeof e}`;
  }
}

test('F18: public functions end with a value or a typed rejection on 100 KB adversarial strings', {
  timeout: 120_000,
}, () => {
  const odd: string[] = [];
  const fns = publicFunctions();
  for (const [fname, fn] of Object.entries(fns)) {
    for (const [iname, input] of Object.entries(ADVERSARIAL)) {
      const o = outcome(() => fn(input));
      if (o.startsWith('non-error') || o === 'RangeError') odd.push(`${fname}(${iname}): ${o}`);
    }
  }
  assert.ok(Object.keys(fns).length >= 20);
  assert.deepEqual(odd, []);
});

test('F18: normalisers just under their length caps answer; a near-cap URL is processed, not rejected early', {
  timeout: 60_000,
}, () => {
  for (const [name, [type, input]] of Object.entries(NEAR_CAP)) {
    assert.equal(typeof normaliseObservable(type, input).ok, 'boolean', name);
    assert.equal(typeof detectObservable(input).ok, 'boolean', name);
  }
  const r = normaliseObservable('url', must(NEAR_CAP.url, 'NEAR_CAP.url')[1]);
  assert.equal(r.ok, true);
});

test('F17: a 1 MB URL is rejected as too_long', () => {
  const huge = `http://a.com/${fill('a', 1024 * 1024)}`;
  const r = normaliseObservable('url', huge);
  assert.equal(r.ok ? 'ok' : r.reason, 'too_long');
  const d = detectObservable(huge);
  assert.equal(d.ok ? 'ok' : d.reason, 'too_long');
});
