/**
 * OpenSearch-specific store behaviour against the real node (scripts/opensearch.sh): concurrent
 * writers, the change log followed during concurrent writes, lease hand-over, partial bulk
 * failures, a mapping conflict, the cluster going away mid-ingest, and a red index.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStixgateError } from '../../src/core/errors.js';
import type { StixObject } from '../../src/core/stix.js';
import type { Change, IngestItem } from '../../src/store/contract.js';
import { OpenSearchStore } from '../../src/store/opensearch/index.js';
import { T0, clone, indicatorFor } from '../store/fixtures.js';
import { FaultProxy, SKIP_REASON, freshStore, highestSeq, storeOptions } from './opensearch-helpers.js';
import { must } from '../helpers/must.js';

function item(object: StixObject, source: string, extra: Partial<IngestItem> = {}): IngestItem {
  return { object: clone(object), source, ...extra };
}

async function rejectsWith(p: Promise<unknown>, code: string, reason?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isStixgateError(e), `expected a StixgateError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (reason !== undefined) assert.equal(e.reason, reason);
    return true;
  });
}

describe('OpenSearch store', { skip: SKIP_REASON }, () => {
  it('two writers merging different sources into the same indicators keep every provenance; a follower misses nothing', async () => {
    // the default ttl: an idle writer's heartbeat (ttl / 5) moves its fence past the other's positions
    const { store: a, cleanup } = await freshStore({ sequence_ttl_secs: 5 });
    const b = new OpenSearchStore({
      ...storeOptions({ sequence_ttl_secs: 5 }),
      index_prefix: a.names.objects.replace(/-objects$/, ''),
    });
    await b.open();
    try {
      const N = 300;
      const objs = Array.from({ length: N }, (_, i) => indicatorFor(5000 + i));
      // a follower reads the change log while the writers run, keeping the latest state per id
      const seen = new Map<string, Change>();
      let cursor = 0;
      // set once the writers finished: the highest position they wrote
      let lastWritten: number | undefined;
      let pollsAfterWriters = 0;
      const follower = (async () => {
        for (;;) {
          const target = lastWritten;
          const p = await b.changes(cursor, 97);
          for (const c of p.changes) {
            assert.ok(c.seq > cursor, 'changes come in increasing seq order');
            seen.set(c.id, c);
          }
          cursor = p.next;
          // the change log is readable with a bounded lag (ADR 0023): an empty page only says
          // nothing more is readable yet; the follower is done once it passed the writers' last position
          if (target !== undefined && cursor >= target && p.changes.length === 0) return;
          if (target !== undefined) pollsAfterWriters++;
          assert.ok(pollsAfterWriters < 5000, `the follower stalled at ${cursor} below ${target}`);
          if (p.changes.length === 0) await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const writer = async (store: OpenSearchStore, sources: string[]) => {
        for (let round = 0; round < 3; round++) {
          for (const source of sources) {
            // overlapping slices in different orders, so the two writers collide on the same ids
            const slice = round % 2 === 0 ? objs : [...objs].reverse();
            const r = await store.upsert(
              slice.map((o) =>
                item(o, source, { confidence: 50, seenAt: new Date(T0 + round * 2 * 3_600_000).toISOString() }),
              ),
              { now: T0 },
            );
            assert.deepEqual(r.rejected, []);
          }
        }
      };
      await Promise.all([writer(a, ['feed-a1', 'feed-a2']), writer(b, ['feed-b1', 'feed-b2'])]);
      lastWritten = await highestSeq(a.names.objects);
      await follower;
      assert.equal(cursor, lastWritten, 'the follower read up to the last position written');
      assert.ok(a.counters.conflicts + b.counters.conflicts > 0, 'the writers collided (409s were re-merged)');
      const all = await a.getMany(objs.map((o) => o.id));
      assert.equal(all.size, N);
      for (const o of all.values()) {
        assert.deepEqual(Object.keys(o.x_stixgate?.sources ?? {}).sort(), ['feed-a1', 'feed-a2', 'feed-b1', 'feed-b2']);
        for (const p of Object.values(must(o.x_stixgate, 'o.x_stixgate').sources))
          assert.equal(p.last_seen, new Date(T0 + 4 * 3_600_000).toISOString());
      }
      // the follower's last view of every object is its final state: no change was skipped
      assert.equal(seen.size, N);
      for (const [id, c] of seen) assert.deepEqual(c.object, all.get(id), `follower's view of ${id} is stale`);
      // every position in the log is used at most once
      const seqs = [...seen.values()].map((c) => c.seq);
      assert.equal(new Set(seqs).size, seqs.length);
      assert.equal(await b.head(), Math.max(...seqs), 'the follower read up to the head');
    } finally {
      await b.close();
      await cleanup();
    }
  });

  it('a lease passes to the other instance when its holder stops renewing', async () => {
    const { store: a, cleanup } = await freshStore();
    const b = new OpenSearchStore({ ...storeOptions(), index_prefix: a.names.objects.replace(/-objects$/, '') });
    await b.open();
    try {
      const ttl = 1500;
      let now = Date.now();
      assert.equal(await a.acquireLease('source:feed-x', 'instance-a', ttl, now), true);
      assert.equal(await b.acquireLease('source:feed-x', 'instance-b', ttl, now + 100), false);
      now += 1000;
      assert.equal(await a.acquireLease('source:feed-x', 'instance-a', ttl, now), true, 'renewal');
      assert.equal(
        await b.acquireLease('source:feed-x', 'instance-b', ttl, now + 1400),
        false,
        'renewed lease still held',
      );
      // instance-a stops renewing: b takes over once the lease expired, and a cannot take it back
      assert.equal(await b.acquireLease('source:feed-x', 'instance-b', ttl, now + ttl), true);
      assert.equal(await a.acquireLease('source:feed-x', 'instance-a', ttl, now + ttl + 10), false);
      // two instances racing for one expired lease: exactly one wins
      const later = now + 10 * ttl;
      const race = await Promise.all([
        a.acquireLease('sink:s1', 'instance-a', ttl, later),
        b.acquireLease('sink:s1', 'instance-b', ttl, later),
      ]);
      const wins = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 ? a : b).acquireLease('race', i % 2 ? 'instance-a' : 'instance-b', ttl, later),
        ),
      );
      assert.equal(race.filter(Boolean).length, 1);
      assert.ok(wins.some(Boolean));
      assert.ok(
        !(wins.some((w, i) => w && i % 2 === 1) && wins.some((w, i) => w && i % 2 === 0)),
        'never both holders',
      );
    } finally {
      await b.close();
      await cleanup();
    }
  });

  it('a mapping conflict rejects that object with a reason and stores the rest', async () => {
    const { store, cleanup } = await freshStore();
    try {
      const good = Array.from({ length: 5 }, (_, i) => indicatorFor(600 + i));
      const bad = { ...indicatorFor(700), modified: 'yesterday-ish' };
      const r = await store.upsert(
        [
          item(must(good[0], 'good[0]'), 'f'),
          item(must(good[1], 'good[1]'), 'f'),
          item(bad, 'f'),
          item(must(good[2], 'good[2]'), 'f'),
          item(must(good[3], 'good[3]'), 'f'),
          item(must(good[4], 'good[4]'), 'f'),
        ],
        { now: T0, cursors: { f: 'c1' } },
      );
      assert.equal(r.created, 5);
      assert.equal(r.rejected.length, 1);
      assert.equal(must(r.rejected[0], 'r.rejected[0]').reason, 'mapping_conflict');
      assert.match(
        must(r.rejected[0], 'r.rejected[0]').message,
        /^OpenSearch refused indicator--.*(mapper_parsing_exception|document_parsing_exception).*modified/,
      );
      assert.deepEqual(must(r.rejected[0], 'r.rejected[0]').location, { index: 2, source: 'f', objectId: bad.id });
      assert.equal(await store.get(bad.id), undefined);
      assert.equal((await store.getMany(good.map((o) => o.id))).size, 5);
      assert.equal(await store.getCursor('f'), 'c1');
      const ch = await store.changes(0, 100);
      assert.equal(ch.changes.length, 5);
      // the refused object's reserved position is a hole, not a stuck horizon
      assert.equal(await store.head(), must(ch.changes.at(-1), 'last change').seq);
      assert.deepEqual((await store.changes(ch.next, 100)).changes, []);
    } finally {
      await cleanup();
    }
  });

  it('S8/D4: 429 and 503 bulk items are retried with back-off, 400 items rejected, the rest acknowledged once', async () => {
    const proxy = new FaultProxy();
    const url = await proxy.start();
    const { store, cleanup } = await freshStore({
      node: url,
      retry: { max_attempts: 4, base_delay_ms: 20, max_delay_ms: 200 },
    });
    try {
      const objs = Array.from({ length: 20 }, (_, i) => indicatorFor(800 + i));
      proxy.failItems.set(must(objs[3], 'objs[3]').id, { times: 2, status: 429 });
      proxy.failItems.set(must(objs[7], 'objs[7]').id, { times: 1, status: 429 });
      proxy.failItems.set(must(objs[11], 'objs[11]').id, { times: 1, status: 503 });
      const bad = { ...indicatorFor(899), valid_until: 'never' };
      const before = proxy.bulkRequests;
      const r = await store.upsert([...objs.map((o) => item(o, 'f')), item(bad, 'f')], { now: T0 });
      assert.equal(r.created, 20);
      assert.deepEqual(
        r.rejected.map((x) => [x.reason, x.location?.objectId]),
        [['mapping_conflict', bad.id]],
      );
      assert.equal(
        proxy.bulkRequests - before,
        3,
        'first bulk, then one retry per failing round (429 twice for one item)',
      );
      assert.equal((await store.getMany(objs.map((o) => o.id))).size, 20);
      const ch = await store.changes(0, 100);
      assert.deepEqual(new Set(ch.changes.map((c) => c.id)), new Set(objs.map((o) => o.id)));
      // an item that keeps failing: retryable error after max_attempts, nothing half-counted
      const stuck = indicatorFor(900);
      proxy.failItems.set(stuck.id, { times: 100, status: 429 });
      await rejectsWith(
        store.upsert([item(stuck, 'f')], { now: T0, cursors: { f: 'should-not-move' } }),
        'STIXGATE_ERR_STORE_UNAVAILABLE',
        'throttled',
      );
      assert.equal(await store.getCursor('f'), undefined);
      proxy.failItems.delete(stuck.id);
      assert.equal((await store.upsert([item(stuck, 'f')], { now: T0, cursors: { f: 'p1' } })).created, 1);
      assert.equal(await store.getCursor('f'), 'p1');
    } finally {
      await cleanup();
      await proxy.stop();
    }
  });

  it('D3: cluster unreachable mid-ingest: writes fail retryably, cursor not advanced, nothing lost once it is back', async () => {
    const proxy = new FaultProxy();
    const url = await proxy.start();
    const { store, cleanup } = await freshStore({
      node: url,
      request_timeout_secs: 5,
      retry: { max_attempts: 2, base_delay_ms: 20, max_delay_ms: 100 },
    });
    try {
      const page1 = Array.from({ length: 50 }, (_, i) => indicatorFor(1000 + i));
      const page2 = Array.from({ length: 50 }, (_, i) => indicatorFor(1100 + i));
      await store.upsert(
        page1.map((o) => item(o, 'f')),
        { now: T0, cursors: { f: 'page-1' } },
      );
      await store.ping();
      await proxy.stop();
      await rejectsWith(store.ping(), 'STIXGATE_ERR_STORE_UNAVAILABLE', 'unreachable');
      const err = await store
        .upsert(
          page2.map((o) => item(o, 'f')),
          { now: T0, cursors: { f: 'page-2' } },
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(isStixgateError(err));
      assert.equal(err.code, 'STIXGATE_ERR_STORE_UNAVAILABLE');
      assert.equal(err.retryable, true);
      assert.doesNotMatch(err.message, /not found/i);
      await rejectsWith(store.get(must(page1[0], 'page1[0]').id), 'STIXGATE_ERR_STORE_UNAVAILABLE', 'unreachable');
      await rejectsWith(store.changes(0, 10), 'STIXGATE_ERR_STORE_UNAVAILABLE');
      await proxy.start(); // same port
      await store.ping();
      assert.equal(await store.getCursor('f'), 'page-1', 'the cursor did not move past the failed page');
      const r = await store.upsert(
        page2.map((o) => item(o, 'f')),
        { now: T0, cursors: { f: 'page-2' } },
      );
      assert.equal(r.created, 50);
      assert.equal(await store.getCursor('f'), 'page-2');
      const all: Change[] = [];
      for (let after = 0; ; ) {
        const p = await store.changes(after, 30);
        if (p.changes.length === 0) break;
        all.push(...p.changes);
        after = p.next;
      }
      assert.deepEqual(new Set(all.map((c) => c.id)), new Set([...page1, ...page2].map((o) => o.id)));
      assert.equal(all.length, 100);
      assert.equal(await store.head(), must(all.at(-1), 'last change').seq);
    } finally {
      await proxy.stop();
      await proxy.start();
      await cleanup();
      await proxy.stop();
    }
  });

  it('ping fails loudly when the stixgate indices are red', async () => {
    const { store, cleanup } = await freshStore();
    try {
      await store.ping();
      // re-create the objects index with its shard pinned to a node that does not exist: red
      const c = (store as unknown as { client: import('@opensearch-project/opensearch').Client }).client;
      await c.indices.delete({ index: store.names.objects });
      await c.indices.create({
        index: store.names.objects,
        wait_for_active_shards: '0',
        body: { settings: { 'index.routing.allocation.require._name': 'no-such-node' } },
      } as never);
      await rejectsWith(store.ping(), 'STIXGATE_ERR_STORE_UNAVAILABLE', 'red');
    } finally {
      await cleanup();
    }
  });
});
