import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { EmbeddedStore, openThreadedStore } from '../../src/store/embedded/index.js';
import { UPSERT_SLICE } from '../../src/store/embedded/threaded-store.js';
import type { IngestItem } from '../../src/store/contract.js';
import { DAY, T0, indicatorFor } from './fixtures.js';
import { turnsDuring } from '../helpers/turns.js';
import { must } from '../helpers/must.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'stixgate-offloop-'));
}

const items = (from: number, n: number, source = 'feed'): IngestItem[] =>
  Array.from({ length: n }, (_, i) => ({
    object: indicatorFor(from + i, i % 3 === 0 ? { validUntil: T0 + DAY } : {}),
    source,
  }));

describe('store statistics are maintained, not counted', () => {
  async function statsStatements(n: number): Promise<string[]> {
    const dir = tempDir();
    const seen: string[] = [];
    let recording = false;
    const store = new EmbeddedStore({
      dataDir: dir,
      onStatement: (sql) => {
        if (recording) seen.push(sql);
      },
    });
    try {
      await store.open();
      await store.upsert(items(1, n), { now: T0, cursors: { feed: 'c' } });
      recording = true;
      const s = await store.stats();
      recording = false;
      assert.equal(s.objects, n);
      return seen;
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('stats() runs the same statements for 10 and 2,000 objects, none over the objects table', async () => {
    const small = await statsStatements(10);
    const large = await statsStatements(2000);
    assert.deepEqual(large, small);
    assert.ok(small.length > 0 && small.length <= 3, `statements: ${small.join(' | ')}`);
    for (const sql of small) assert.doesNotMatch(sql, /\bobjects\b/i, sql);
  });

  it('the counts follow creates, type and state changes, expiry, revocation, modify and a failed batch', async () => {
    const dir = tempDir();
    const store = new EmbeddedStore({ dataDir: dir });
    try {
      await store.open();
      await store.upsert(items(1, 30), { now: T0 });
      await store.upsert([{ object: { ...indicatorFor(2, { modified: T0 + 1000 }), revoked: true }, source: 'feed' }], {
        now: T0,
      });
      await store.expire(T0 + 2 * DAY); // every third one has valid_until T0 + 1 day
      await store.modify(
        [indicatorFor(3).id],
        (o) => ({ ...o, x_stixgate: { ...must(o.x_stixgate, 'o.x_stixgate'), expired: true } }),
        {
          now: T0,
        },
      );
      // a batch that fails half way (a value with no JSON form is rejected, a throwing getter aborts)
      const bad = { ...indicatorFor(500) } as Record<string, unknown>;
      Object.defineProperty(bad, 'name', {
        enumerable: true,
        get: () => {
          throw new Error('boom');
        },
      });
      await assert.rejects(store.upsert([...items(100, 5), { object: bad as never, source: 'feed' }], { now: T0 }));
      const s = await store.stats();
      await store.close();
      const raw = new Database(join(dir, 'stixgate.db'), { readonly: true });
      const byState = Object.fromEntries(
        (
          raw.prepare('SELECT state, count(*) AS n FROM objects GROUP BY state').all() as { state: number; n: number }[]
        ).map((r) => [r.state, r.n]),
      );
      raw.close();
      assert.equal(s.objects, 30);
      assert.deepEqual({ ...s.byType }, { indicator: 30 });
      assert.equal(s.revoked, byState[1]);
      assert.equal(s.expired, byState[2]);
      assert.equal(s.revoked, 1);
      assert.equal(s.expired, 11); // 10 by valid_until (ids 1, 4, ..., 28) and 3 by modify
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the threaded store keeps the event loop turning', () => {
  it('an upsert crosses to the writer in slices, an event-loop turn apart', async () => {
    const dir = tempDir();
    const store = await openThreadedStore({ dataDir: dir });
    try {
      const n = UPSERT_SLICE * 6 + 17;
      const { value, turns } = await turnsDuring(() => store.upsert(items(1, n), { now: T0 }));
      assert.equal(value.created, n);
      // the six slices before the last each gave the loop a turn
      assert.ok(turns >= 6, `turns: ${turns}`);
      assert.equal((await store.stats()).objects, n);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the in-thread store, for comparison, runs a whole upsert within one turn', async () => {
    const dir = tempDir();
    const store = new EmbeddedStore({ dataDir: dir });
    try {
      await store.open();
      const { turns } = await turnsDuring(() => store.upsert(items(1, UPSERT_SLICE * 6 + 17), { now: T0 }));
      assert.equal(turns, 0);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('modify runs its function here and the writer applies it; engine errors keep their code', async () => {
    const dir = tempDir();
    const store = await openThreadedStore({ dataDir: dir });
    try {
      await store.upsert(items(1, 3), { now: T0 });
      const r = await store.modify(
        [indicatorFor(1).id, indicatorFor(9).id],
        (o) => ({ ...o, x_stixgate: { ...must(o.x_stixgate, 'o.x_stixgate'), expired: true } }),
        { now: T0 },
      );
      assert.deepEqual(r, { updated: 1, unchanged: 0, missing: 1, rejected: [] });
      assert.equal((await store.stats()).expired, 1);
      await store.close();
      await assert.rejects(
        store.get(indicatorFor(1).id),
        (e: Error & { code?: string }) => e.code === 'STIXGATE_ERR_STORE_UNAVAILABLE',
      );
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
