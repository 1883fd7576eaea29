import { type TestContext, test } from 'node:test';
import assert from 'node:assert/strict';
import { sinkReconcileBench } from '../../test/helpers/reconcile-kit.js';
import { qradarSink } from './index.js';
import { config, ictx, indicator, NOW, runContext, startSim } from './test-kit.js';
import { must } from '../../test/helpers/must.js';

/** The reconcile bench of a qradar sink on the simulator at `base`. */
const bench = (t: TestContext, base: string) =>
  sinkReconcileBench(t, { def: qradarSink, config: config(base), ctx: ictx, http: runContext(t).http, now: NOW });

for (const apiVersion of ['26.0', '12.0']) {
  const collections = apiVersion === '26.0';
  test(`qradar (API ${apiVersion}, ${collections ? 'reference_data_collections' : 'reference sets'}): the plan lists exactly the drift injected in the sets, reconcile repairs it, foreign entries survive, a second plan is empty`, async (t) => {
    const { sim, base } = await startSim(t, { apiVersion });
    const b = await bench(t, base);
    await b.put(
      ['198.51.100.1', '198.51.100.2', '198.51.100.3', 'evil.example', 'http://evil.example/x'].map((v) =>
        indicator(v),
      ),
    );
    await b.push();
    assert.deepEqual((await b.plan()).counts, { missing: 0, stale: 0, extra: 0, foreign: 0, in_sync: 5 });

    const ipv4 = must(sim.set('stixgate - IPv4'), "sim.set('stixgate - IPv4')");
    const domains = must(sim.set('stixgate - Domains'), "sim.set('stixgate - Domains')");
    const own = collections ? 'stixgate' : 'reference data api';
    sim.store.remove(ipv4, '198.51.100.1'); // deleted on the console
    sim.store.add(ipv4, '192.0.2.66', NOW, own); // a value stixgate does not hold, added under its name
    sim.store.add(domains, 'partner.example', NOW, 'threat_feed_x'); // another tool's entry
    const expected = {
      missing: ['stixgate - IPv4 198.51.100.1'],
      stale: [] as string[],
      extra: ['stixgate - IPv4 192.0.2.66'],
      foreign: ['stixgate - Domains partner.example'],
    };
    if (collections) {
      must(
        [...ipv4.elements.values()].find((e) => e.value === '198.51.100.2'),
        "[...ipv4.elements.values()].find((e) => e.value === '198....",
      ).notes = 'edited by hand';
      expected.stale = ['stixgate - IPv4 198.51.100.2'];
    }
    const plan = await b.plan();
    assert.deepEqual(b.listed(plan), expected);
    assert.equal(sim.values('stixgate - IPv4').includes('198.51.100.1'), false, 'a plan changes nothing');

    const done = await b.reconcile();
    assert.equal(must(done.repaired, 'done.repaired').upserted, collections ? 2 : 1);
    assert.equal(must(done.repaired, 'done.repaired').removed, 1);
    assert.deepEqual(sim.values('stixgate - IPv4').sort(), ['198.51.100.1', '198.51.100.2', '198.51.100.3']);
    assert.deepEqual(
      sim.values('stixgate - Domains').sort(),
      ['evil.example', 'partner.example'],
      'the foreign entry survives',
    );
    if (collections)
      assert.match(
        String(
          must(
            sim.elements('stixgate - IPv4').find((e) => e.value === '198.51.100.2'),
            "sim.elements('stixgate - IPv4').find((e) => e.value === '...",
          ).notes,
        ),
        /^indicator--/,
      );
    assert.deepEqual((await b.plan()).counts, { missing: 0, stale: 0, extra: 0, foreign: 1, in_sync: 5 });
  });
}

test('qradar: a set deleted on the console reads as empty (everything missing) and reconcile creates it again', async (t) => {
  const { sim, base } = await startSim(t, { apiVersion: '26.0' });
  const b = await bench(t, base);
  await b.put(['198.51.100.1', 'evil.example'].map((v) => indicator(v)));
  await b.push();
  sim.store.delete(must(sim.set('stixgate - IPv4'), "sim.set('stixgate - IPv4')"));
  const plan = await b.plan();
  assert.deepEqual(b.listed(plan).missing, ['stixgate - IPv4 198.51.100.1']);
  await b.reconcile();
  assert.deepEqual(sim.values('stixgate - IPv4'), ['198.51.100.1']);
});

test('qradar: entries are read in Range pages of the documented form', async (t) => {
  const { sim, base } = await startSim(t, { apiVersion: '26.0' });
  const b = await bench(t, base);
  const ipv4 = sim.store.create({ name: 'stixgate - IPv4', elementType: 'IP', expiry: 'NO_EXPIRY' } as never, NOW);
  for (let i = 0; i < 2500; i++) sim.store.add(ipv4, `10.0.${i >> 8}.${i & 255}`, NOW, 'stixgate');
  const plan = await b.plan({ listLimit: 3 });
  assert.equal(plan.read, 2500);
  assert.equal(plan.counts.extra, 2500);
  assert.equal(plan.items.extra.length, 3);
  assert.equal(plan.truncated, true);
  const reads = sim.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/set_entries'));
  assert.deepEqual(
    reads.map((r) => r.range),
    ['items=0-999', 'items=1000-1999', 'items=2000-2999'],
    'Range pages until Content-Range says the end',
  );
  assert.ok(reads.every((r) => decodeURIComponent(r.query).includes(`collection_id=${ipv4.id}`)));
});
