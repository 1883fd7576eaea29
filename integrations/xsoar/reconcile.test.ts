import { type TestContext, test } from 'node:test';
import assert from 'node:assert/strict';
import { sinkReconcileBench } from '../../test/helpers/reconcile-kit.js';
import { xsoarSink } from './index.js';
import { config, ictx, indicator, NOW, runContext, startSim } from './test-kit.js';
import { must } from '../../test/helpers/must.js';

/** The reconcile bench of a xsoar sink on the simulator at `base`. */
const bench = (t: TestContext, base: string) =>
  sinkReconcileBench(t, { def: xsoarSink, config: config(base), ctx: ictx, http: runContext(t).http, now: NOW });
const feed = (value: string, type: string, brand: string, score = 3) => ({
  value,
  type,
  score,
  sourceBrand: brand,
  sourceInstance: brand,
  expirationPolicy: 'never',
  fields: {},
});

test("xsoar: the plan lists exactly the drift injected in the indicators, reconcile repairs it, other sources' indicators are counted as foreign and survive, a second plan is empty", async (t) => {
  const { sim, base } = await startSim(t, { maxSearchSize: 2 });
  const b = await bench(t, base);
  await b.put(
    ['198.51.100.1', '198.51.100.2', '198.51.100.3', 'evil.example', 'http://evil.example/x'].map((v) => indicator(v)),
  );
  await b.push();
  assert.deepEqual((await b.plan()).counts, { missing: 0, stale: 0, extra: 0, foreign: 0, in_sync: 5 });

  const store = sim.store();
  store.batchDelete({
    ids: [must(sim.indicator('198.51.100.1'), "sim.indicator('198.51.100.1')").id],
    doNotWhitelist: true,
  }); // deleted in XSOAR
  must(sim.indicator('evil.example'), "sim.indicator('evil.example')").CustomFields.stixid =
    'indicator--00000000-0000-4000-8000-000000000000'; // edited
  store.ingest(feed('192.0.2.66', 'IP', 'stixgate'), 0, false); // stixgate's brand on a value the store does not hold (a restore)
  store.ingest(feed('partner.example', 'Domain', 'OtherFeed'), 0, false); // another feed's indicator
  store.create({ indicator: { value: 'analyst.example', indicator_type: 'Domain' } }); // an analyst's own
  store.ingest(feed('198.51.100.3', 'IP', 'OtherFeed', 1), 0, false); // another feed also lists a value of stixgate's

  const plan = await b.plan();
  assert.deepEqual(b.listed(plan), {
    missing: ['IP 198.51.100.1'],
    stale: ['Domain evil.example'],
    extra: ['IP 192.0.2.66'],
    foreign: [],
  });
  assert.equal(plan.counts.foreign, 2, "indicators without stixgate's brand are counted, not read");
  assert.equal(plan.counts.in_sync, 3, 'a value another feed also lists is current while the fields stixgate sets are');
  assert.ok(sim.indicator('192.0.2.66'), 'a plan changes nothing');

  const done = await b.reconcile();
  assert.deepEqual(done.repaired, { upserted: 2, removed: 1, rejected: 0, retried: 0, gone: 0 });
  assert.ok(sim.indicator('198.51.100.1'));
  assert.match(
    String(must(sim.indicator('evil.example'), "sim.indicator('evil.example')").CustomFields.stixid),
    /^indicator--(?!00000000)/,
  );
  assert.equal(sim.indicator('192.0.2.66'), undefined);
  assert.equal(sim.exclusions().length, 0, 'the removal never puts a value on the exclusion list');
  assert.ok(sim.indicator('partner.example') && sim.indicator('analyst.example'), 'foreign indicators survive');
  assert.deepEqual((await b.plan()).counts, { missing: 0, stale: 0, extra: 0, foreign: 2, in_sync: 5 });
  const reads = sim.requests.filter((r) => r.path.endsWith('/indicators/search'));
  assert.ok(reads.length > 3, 'the read pages through the search');
});
