import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedStore } from '../../src/store/embedded/store.js';
import { buildIndex, IndexFollower, LookupIndex } from '../../src/lookup/index.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { T0, indicator, uuidId, type IndicatorSpec } from './fixtures.js';
import { must } from '../helpers/must.js';

async function openStore(t: { after: (fn: () => unknown) => void }): Promise<EmbeddedStore> {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-lookup-'));
  const store = new EmbeddedStore({ dataDir: dir });
  await store.open();
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

function item(spec: IndicatorSpec) {
  const { x_stixgate: _drop, ...object } = indicator(spec);
  return { object, source: 'feed_a', confidence: 70 };
}

test('buildIndex pages through the embedded store; the follower applies upserts, revocations and expiries', async (t) => {
  const store = await openStore(t);
  let now = T0;
  const upserts = Array.from({ length: 25 }, (_, i) =>
    item({ n: i + 1, pattern: `[ipv4-addr:value = '198.51.100.${i + 1}']` }),
  );
  upserts.push(item({ n: 100, pattern: "[domain-name:value = 'short.example']", validUntil: T0 + 60_000 }));
  const r = await store.upsert(upserts, { now });
  assert.equal(r.created, 26);

  // small pages so the builder has to page
  const { index, seq } = await buildIndex(store, { now: () => now, pageSize: 7 });
  assert.equal(seq, await store.head());
  assert.equal(index.size, 26);
  const hit = index.lookup('198.51.100.3', now, 'amber');
  assert.equal(hit.matched, true);
  assert.equal(must(hit.indicators[0], 'hit.indicators[0]').id, uuidId(3));
  assert.deepEqual(must(hit.indicators[0], 'hit.indicators[0]').sources, ['feed_a']);

  const metrics = new Metrics({ defaults: false });
  const follower = new IndexFollower(store, index, { from: seq, now: () => now, metrics, sweepIntervalMs: 0 });
  await store.upsert([item({ n: 200, pattern: "[url:value = 'http://new.example/a']" })], { now });
  const revoked = { ...item({ n: 3, pattern: "[ipv4-addr:value = '198.51.100.3']" }) };
  revoked.object = { ...revoked.object, revoked: true, modified: '2026-02-01T00:00:00.000Z' };
  await store.upsert([revoked], { now });
  await follower.tick();
  assert.equal(follower.seq, await store.head());
  assert.equal(index.lookup('http://new.example/a', now, 'amber').matched, true);
  assert.equal(index.lookup('198.51.100.3', now, 'amber').matched, false);
  assert.equal(index.size, 26);

  // the follower's sweep drops what valid_until has passed, before the store's own expiry runs
  now = T0 + 60_000;
  await follower.tick();
  assert.equal(index.lookup('short.example', now, 'red').matched, false);
  assert.equal(index.size, 25);
  const entries = await metrics.indexEntries.get();
  assert.equal(entries.values.find((v) => v.labels.kind === 'indicators')?.value, 25);
  assert.equal(
    must((await metrics.indexSeq.get()).values[0], '(await metrics.indexSeq.get()).values[0]').value,
    follower.seq,
  );
});

test('the follower keeps serving when the store fails and catches up afterwards', async () => {
  let fail = true;
  const pages = [
    {
      seq: 1,
      id: uuidId(1),
      type: 'indicator',
      op: 'upsert' as const,
      object: indicator({ n: 1, pattern: "[ipv4-addr:value = '192.0.2.1']" }),
    },
  ];
  const store = {
    async changes(after: number) {
      if (fail) throw new Error('store unavailable');
      const changes = pages.filter((c) => c.seq > after);
      return { changes, next: changes.at(-1)?.seq ?? after };
    },
  };
  const index = new LookupIndex({ now: () => T0 });
  const follower = new IndexFollower(store as never, index, { from: 0, now: () => T0 });
  await follower.tick();
  assert.equal(follower.seq, 0);
  assert.equal(follower.healthy, true, 'one failed poll is tolerated');
  await follower.tick();
  await follower.tick();
  assert.equal(follower.healthy, false, 'three failed polls in a row: the index is not current');
  fail = false;
  await follower.tick();
  assert.equal(follower.seq, 1);
  assert.equal(follower.healthy, true);
  assert.equal(index.lookup('192.0.2.1', T0, 'amber').matched, true);
});
