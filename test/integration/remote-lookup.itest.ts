/**
 * The OpenSearch store's remote lookups (src/lookup/remote, docs/adr/0024-remote-lookups.md)
 * against the real node: the same answers as the embedded index built from the same store, at
 * every TLP ceiling; changes visible once the follower caught up; the filter snapshot restored
 * and caught up; a damaged snapshot refused and the filter rebuilt.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { StixObject } from '../../src/core/stix.js';
import { buildIndex, IndexFollower, type LookupIndex } from '../../src/lookup/index.js';
import { FilterKeeper } from '../../src/lookup/remote/filter-keeper.js';
import { RemoteLookup } from '../../src/lookup/remote/remote-lookup.js';
import type { IngestItem } from '../../src/store/contract.js';
import type { OpenSearchStore } from '../../src/store/opensearch/index.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { T0, indicator } from '../lookup/fixtures.js';
import { LEVELS, fixtureObjects } from '../lookup/remote-fixture.js';
import { SKIP_REASON, freshStore } from './opensearch-helpers.js';

const SHAPE = { capacity: 100_000, fpRate: 0.001 };
const DAY = 86_400_000;
const logger = createLogger({ level: 'silent' });

/** The fixture as ingest items: mixed-TLP indicators come from two sources of different TLPs. */
function items(objects: StixObject[]): IngestItem[] {
  const out: IngestItem[] = [];
  for (const o of objects) {
    const { x_stixgate: x, ...plain } = o;
    const sources = Object.entries(x?.sources ?? {});
    if (sources.length > 1) {
      const { object_marking_refs: _m, ...unmarked } = plain;
      for (const [source, p] of sources) out.push({ object: unmarked as StixObject, source, tlp: p.tlp });
    } else out.push({ object: plain as StixObject, source: 'feed_a' });
  }
  return out;
}

async function ingest(store: OpenSearchStore, objects: StixObject[], now = T0): Promise<void> {
  const all = items(objects);
  for (let i = 0; i < all.length; i += 500) {
    const r = await store.upsert(all.slice(i, i + 500), { now });
    assert.deepEqual(r.rejected, []);
  }
}

/** The fixture stored: upserts first, then the revocations (a later `modified`). */
async function storeFixture(store: OpenSearchStore, n: number): Promise<string[]> {
  const { objects, probes } = fixtureObjects(n);
  const live = objects.filter((o) => o.revoked !== true && o.x_stixgate?.expired !== true);
  await ingest(store, live);
  const gone = objects
    .filter((o) => !live.includes(o))
    .map((o) => {
      const { x_stixgate: _x, ...plain } = o;
      return { ...plain, revoked: true, modified: '2026-01-05T00:00:00.000Z' } as StixObject;
    });
  await ingest(store, gone);
  return probes;
}

async function compare(index: LookupIndex, remote: RemoteLookup, probes: string[], now: number): Promise<number> {
  let matched = 0;
  for (const level of LEVELS) {
    const got = await remote.lookupMany(probes, now, level);
    for (const [i, p] of probes.entries()) {
      const want = index.lookup(p, now, level);
      assert.deepEqual(got[i], want, `${p} at ${level}`);
      if (want.matched) matched++;
    }
  }
  return matched;
}

/** The filter in use (read through a call: it changes behind the test's back). */
const filterOf = (r: RemoteLookup) => r.filter;

function keeper(store: OpenSearchStore, dir: string): FilterKeeper {
  return new FilterKeeper({ dataDir: dir, store, shape: SHAPE, logger, intervalMs: 0, pageSize: 500 });
}

describe('remote lookups on the OpenSearch store', { skip: SKIP_REASON }, () => {
  it('answer exactly as the embedded index built from the same store, at every TLP ceiling, before and after expiry', async () => {
    const { store, cleanup } = await freshStore();
    const dir = mkdtempSync(join(tmpdir(), 'stixgate-remote-'));
    try {
      const probes = await storeFixture(store, 600);
      const { index } = await buildIndex(store, { now: () => T0 });
      const remote = new RemoteLookup(store, { now: () => T0, cacheBytes: 1 << 20 });
      const k = keeper(store, dir);
      assert.equal((await k.open(remote)).restored, false);
      // while the filter is built every lookup asks the store; the answers are the same
      await compare(index, remote, probes.slice(0, 40), T0);
      await k.building;
      assert.ok(remote.filter, 'the filter was built');
      const matched = await compare(index, remote, probes, T0);
      assert.ok(matched > 800, `the fixture hits (${matched})`);
      await compare(index, remote, probes, T0 + 2 * DAY);
      // one request per batch, and most misses never reach the store
      const trips = remote.counters.roundTrips;
      await remote.lookupMany(probes, T0, 'red');
      assert.ok(remote.counters.roundTrips - trips <= 1);
      const misses = Array.from({ length: 500 }, (_, i) => `absent-${i}.example.org`);
      const before = remote.counters.roundTrips;
      for (const m of misses) await remote.lookup(m, T0, 'red');
      assert.ok(
        remote.counters.roundTrips - before <= 25,
        `${remote.counters.roundTrips - before} of 500 misses asked`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await cleanup();
    }
  });

  it('an indicator added, revoked or expired through the store is answered accordingly once the follower caught up', async () => {
    const { store, cleanup } = await freshStore();
    const dir = mkdtempSync(join(tmpdir(), 'stixgate-remote-'));
    try {
      await storeFixture(store, 50);
      const remote = new RemoteLookup(store, { now: () => T0, cacheBytes: 1 << 20 });
      const k = keeper(store, dir);
      const { seq } = await k.open(remote);
      await k.building;
      const follower = new IndexFollower(store, remote, { from: seq, now: () => T0 });
      const added = indicator({ n: 9001, pattern: "[domain-name:value = 'fresh.example']", validUntil: T0 + DAY });
      const { x_stixgate: _x, ...plain } = added;
      assert.equal((await remote.lookup('www.fresh.example', T0, 'red')).matched, false);
      await ingest(store, [plain as StixObject]);
      await follower.tick();
      const hit = await remote.lookup('www.fresh.example', T0, 'red');
      assert.equal(hit.matched, true);
      assert.equal(hit.indicators[0]?.matched_value, 'fresh.example');
      // expired by the store's expiry job: gone for lookups at a time it was still valid
      assert.ok((await store.expire(T0 + 2 * DAY)) >= 1);
      assert.equal((await store.get(added.id))?.x_stixgate?.expired, true);
      await follower.tick();
      assert.equal((await remote.lookup('www.fresh.example', T0, 'red')).matched, false);
      // a second indicator added, then revoked
      const other = indicator({ n: 9002, pattern: "[ipv4-addr:value = '198.18.0.0/15']" });
      const { x_stixgate: _y, ...plain2 } = other;
      await ingest(store, [plain2 as StixObject]);
      await follower.tick();
      assert.equal((await remote.lookup('198.19.4.4', T0, 'red')).indicators[0]?.matched_value, '198.18.0.0/15');
      await ingest(store, [{ ...plain2, revoked: true, modified: '2026-01-05T00:00:00.000Z' } as StixObject]);
      await follower.tick();
      assert.equal((await remote.lookup('198.19.4.4', T0, 'red')).matched, false);
      assert.equal(remote.seq, await store.head());
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await cleanup();
    }
  });

  it('the filter snapshot is restored and caught up from the change log; a damaged one is refused and the filter rebuilt', async () => {
    const { store, cleanup } = await freshStore();
    const dir = mkdtempSync(join(tmpdir(), 'stixgate-remote-'));
    try {
      await storeFixture(store, 200);
      const first = new RemoteLookup(store, { now: () => T0, cacheBytes: 1 << 20 });
      const k1 = keeper(store, dir);
      const { seq } = await k1.open(first);
      await k1.building;
      const f1 = new IndexFollower(store, first, { from: seq, now: () => T0 });
      await k1.stop(first, f1);
      // changes after the snapshot
      const later = indicator({ n: 9100, pattern: "[url:value = 'http://after.example/x']" });
      const { x_stixgate: _x, ...plain } = later;
      await ingest(store, [plain as StixObject]);

      const second = new RemoteLookup(store, { now: () => T0, cacheBytes: 1 << 20 });
      const k2 = keeper(store, dir);
      const opened = await k2.open(second);
      assert.equal(opened.restored, true);
      assert.equal(opened.seq, await store.head());
      assert.deepEqual(second.filter?.buckets.length, first.filter?.buckets.length);
      assert.equal(second.filter?.mightHave('http://after.example/x'), true, 'caught up from the change log');
      assert.equal((await second.lookup('http://after.example/x', T0, 'red')).matched, true);

      const path = join(dir, 'lookup-filter.snapshot');
      const bytes = readFileSync(path);
      bytes[bytes.length - 64] = (bytes[bytes.length - 64] as number) ^ 0x5a;
      writeFileSync(path, bytes);
      const third = new RemoteLookup(store, { now: () => T0, cacheBytes: 1 << 20 });
      const k3 = keeper(store, dir);
      assert.equal((await k3.open(third)).restored, false);
      assert.equal(filterOf(third), undefined, 'no filter until it is rebuilt');
      await k3.building;
      assert.equal(filterOf(third)?.mightHave('http://after.example/x'), true, 'rebuilt from the store');
      const { index } = await buildIndex(store, { now: () => T0 });
      await compare(index, third, ['http://after.example/x', 'absent.example', '10.200.0.1'], T0);

      // another store's snapshot (the store's identity differs) is refused too
      const { store: otherStore, cleanup: cleanOther } = await freshStore();
      try {
        await k2.stop(second, new IndexFollower(store, second, { from: opened.seq }));
        const fourth = new RemoteLookup(otherStore, { now: () => T0, cacheBytes: 0 });
        assert.equal((await keeper(otherStore, dir).open(fourth)).restored, false);
      } finally {
        await cleanOther();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await cleanup();
    }
  });
});
