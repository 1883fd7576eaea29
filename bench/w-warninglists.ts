/**
 * Warninglists: load time of every corpus list and the publish filter's check rate on a mixed
 * workload of 60k values (the workload of test/filter/perf.test.ts). Skipped without the corpus.
 */
import { performance } from 'node:perf_hooks';
import { buildWarninglistMatcher } from '../src/filter/warninglists.js';
import { PublishFilter } from '../src/filter/policy.js';
import { SKIP, WL_DIR } from '../test/filter/corpus-helpers.js';
import { workload } from '../test/filter/wl-workload.js';
import { cpuSeconds, round, type Row } from './lib.js';

export async function runWarninglists(scale: number): Promise<Row[]> {
  if (SKIP) return [{ workload: 'WL', what: 'warninglists load and check rate', note: `skipped: ${SKIP}` }];
  const t0 = performance.now();
  const r = await buildWarninglistMatcher({ paths: [WL_DIR] });
  const loadSecs = (performance.now() - t0) / 1000;
  const st = r.matcher.stats();
  const values = workload(Math.max(10_000, Math.round(60_000 * Math.min(1, scale * 10))));
  const f = new PublishFilter({ warninglists: r.matcher });
  for (const v of values.slice(0, 1000)) f.check(v, ['feed']); // warm the JIT
  let withheld = 0;
  const c0 = cpuSeconds();
  const t1 = performance.now();
  for (const v of values) if (!f.check(v, ['feed']).publish) withheld++;
  const secs = (performance.now() - t1) / 1000;
  const cpu = cpuSeconds() - c0;
  return [
    {
      workload: 'WL',
      what: `load ${st.lists} corpus warninglists (${st.entries} entries)`,
      items: st.entries,
      seconds: round(loadSecs, 3),
      rate: Math.round(st.entries / loadSecs),
      note: `${st.inert.length} inert`,
    },
    {
      workload: 'WL',
      what: 'publish filter checks, mixed workload',
      items: values.length,
      seconds: round(secs, 3),
      rate: Math.round(values.length / secs),
      cpu_s_per_1k: round((cpu / values.length) * 1000, 4),
      note: `${withheld} withheld`,
    },
  ];
}
