/**
 * Every corpus warninglist loaded and checked against a realistic workload: the loader reports no
 * problem and a realistic share is withheld. The load time and the check rate are measured by the
 * benchmark (`npm run bench -- warninglists`), not here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildWarninglistMatcher } from '../../src/filter/warninglists.js';
import { PublishFilter } from '../../src/filter/policy.js';
import { SKIP, WL_DIR } from './corpus-helpers.js';
import { workload } from './wl-workload.js';

test('all corpus lists load without a problem and withhold a realistic share of a mixed workload', {
  skip: SKIP,
}, async () => {
  const r = await buildWarninglistMatcher({ paths: [WL_DIR] });
  assert.deepEqual(r.problems, []);
  const st = r.matcher.stats();
  assert.equal(st.lists, 29);
  const values = workload(60_000);
  const f = new PublishFilter({ warninglists: r.matcher });
  let withheld = 0;
  for (const v of values) if (!f.check(v, ['feed']).publish) withheld++;
  assert.ok(withheld > values.length / 10 && withheld < values.length, `a realistic share is withheld (${withheld})`);
});
