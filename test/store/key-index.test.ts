import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { StixObject } from '../../src/core/stix.js';
import { EmbeddedStore, SCHEMA_VERSION, openEmbeddedStore } from '../../src/store/embedded/index.js';
import { KeyIndex, KeyTable, keyHash } from '../../src/store/embedded/key-index.js';
import { T0, indicatorFor, prng } from './fixtures.js';
import { V1_INSERT, createV1Store } from './v1-store.js';
import { must } from '../helpers/must.js';

/** Runs `fn` in a fresh temporary directory and removes it afterwards. */
async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-keys-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Two distinct strings `make(i)`, `make(j)` with the same keyHash (a birthday search). */
function collidingPair(make: (n: number) => string): [string, string] {
  const seen = new Map<number, number>();
  for (let n = 0; n < 2_000_000; n++) {
    const h = keyHash(make(n));
    const prev = seen.get(h);
    if (prev !== undefined) return [make(prev), make(n)];
    seen.set(h, n);
  }
  throw new Error('no collision found');
}

function domainIndicator(id: string, value: string): StixObject {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id,
    created: '2024-03-01T00:00:00.000Z',
    modified: '2024-03-01T00:00:00.000Z',
    pattern: `[domain-name:value = '${value}']`,
    pattern_type: 'stix',
    valid_from: '2024-03-01T00:00:00.000Z',
  } as StixObject;
}

describe('key hash and tables', () => {
  it('keyHash is stable: it is part of the file format (object_keys)', () => {
    // FNV-1a 32 over UTF-16 code units then murmur3 fmix32, computed independently here
    const reference = (s: string): number => {
      let h = 2166136261;
      for (const c of s)
        for (let k = 0; k < c.length; k++) h = Number((BigInt(h ^ c.charCodeAt(k)) * 16777619n) & 0xffffffffn);
      const fmix = (x: number, m: bigint, r: number) => Number((BigInt((x ^ (x >>> r)) >>> 0) * m) & 0xffffffffn);
      h = fmix(h, 0x85ebca6bn, 16);
      h = fmix(h, 0xc2b2ae35n, 13);
      return (h ^ (h >>> 16)) >>> 0;
    };
    for (const s of ['', 'a', 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', '10.0.0.1', 'bücher.example', '😀x']) {
      assert.equal(keyHash(s), reference(s), s);
    }
    assert.notEqual(keyHash('10.0.0.1'), keyHash('10.0.0.2'));
  });

  it('a table behaves as a multi-map under random adds and removes, through growth and wrap-around', () => {
    const rand = prng(7);
    const t = new KeyTable();
    /** reference: "hash/rowid" pairs */
    const model = new Set<string>();
    // few distinct hashes, some near the top of the range, so probe runs are long and wrap
    const hashes = Array.from({ length: 40 }, (_, i) => (i % 2 ? 0xffffffff - i : i * 1023) >>> 0);
    for (let step = 0; step < 60_000; step++) {
      const h = must(hashes[Math.floor(rand() * hashes.length)], 'hashes[Math.floor(rand() * hashes.length)]');
      const r = 1 + Math.floor(rand() * 3000);
      const key = `${h}/${r}`;
      if (rand() < 0.6) {
        if (!model.has(key)) {
          assert.equal(t.has(h, r), false);
          t.add(h, r);
          model.add(key);
        }
      } else {
        assert.equal(t.remove(h, r), model.delete(key), `remove ${key} at step ${step}`);
      }
      if (step % 5000 === 0 || step === 59_999) {
        assert.equal(t.size, model.size);
        for (const hh of hashes) {
          const got = t.get(hh).sort((a, b) => a - b);
          const want = [...model]
            .filter((k) => k.startsWith(`${hh}/`))
            .map((k) => Number(k.split('/')[1]))
            .sort((a, b) => a - b);
          assert.deepEqual(got, want, `hash ${hh} at step ${step}`);
        }
      }
    }
    assert.ok(t.size > 1024, 'the table grew past its first capacity');
    assert.throws(() => t.add(1, 0), /rowid 0 is outside/);
    assert.throws(() => t.add(1, 2 ** 32), /outside/);
  });

  it('an index takes back the changes of a rolled-back transaction', () => {
    const k = new KeyIndex();
    k.add(k.ids, 5, 1);
    k.add(k.values, 9, 1);
    k.begin();
    k.add(k.ids, 6, 2);
    k.remove(k.values, 9, 1);
    k.add(k.values, 10, 1);
    k.rollback();
    assert.deepEqual([k.ids.get(5), k.ids.get(6), k.values.get(9), k.values.get(10)], [[1], [], [1], []]);
    k.begin();
    k.add(k.ids, 6, 2);
    k.commit();
    k.rollback(); // nothing left to undo
    assert.deepEqual(k.ids.get(6), [2]);
  });
});

describe('embedded store: key index', () => {
  it('ids and values that share a 32-bit hash are told apart by the row', async () => {
    const [idA, idB] = collidingPair((n) => `indicator--00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`);
    const [vA, vB] = collidingPair((n) => `host${n}.example`);
    assert.equal(keyHash(idA), keyHash(idB));
    assert.equal(keyHash(vA), keyHash(vB));
    await inTempDir(async (dir) => {
      let s = await openEmbeddedStore({ dataDir: dir });
      const r1 = await s.upsert([{ object: domainIndicator(idA, vA), source: 'x' }], { now: T0 });
      assert.equal(r1.created, 1);
      assert.equal(await s.get(idB), undefined, 'a colliding id that was never stored is not found');
      assert.equal(
        (await s.query({ value: vB })).objects.length,
        0,
        'a colliding value that no object holds finds nothing',
      );
      const r2 = await s.upsert([{ object: domainIndicator(idB, vB), source: 'x' }], { now: T0 });
      assert.equal(r2.created, 1, 'the colliding id is a new object, not an update of the first');
      for (let round = 0; round < 2; round++) {
        assert.equal((await s.get(idA))?.pattern, `[domain-name:value = '${vA}']`);
        assert.equal((await s.get(idB))?.pattern, `[domain-name:value = '${vB}']`);
        assert.deepEqual([...(await s.getMany([idB, idA])).keys()].sort(), [idA, idB].sort());
        assert.deepEqual(
          (await s.query({ value: vA })).objects.map((o) => o.id),
          [idA],
        );
        assert.deepEqual(
          (await s.query({ value: vB })).objects.map((o) => o.id),
          [idB],
        );
        // the tables are rebuilt from object_keys at open
        await s.close();
        s = await openEmbeddedStore({ dataDir: dir });
      }
      assert.deepEqual(s.keyIndexStats().ids, 2);
      // an update that changes the value moves the value key
      const moved = await s.upsert(
        [{ object: { ...domainIndicator(idA, vB), modified: '2024-03-02T00:00:00.000Z' }, source: 'x' }],
        { now: T0 },
      );
      assert.equal(moved.updated, 1);
      assert.deepEqual((await s.query({ value: vA })).objects.length, 0);
      assert.deepEqual((await s.query({ value: vB })).objects.map((o) => o.id).sort(), [idA, idB].sort());
      await s.close();
    });
  });

  it('a failed batch leaves the key tables as they were', async () => {
    await inTempDir(async (dir) => {
      const s = new EmbeddedStore({ dataDir: dir });
      await s.open();
      await s.upsert([{ object: indicatorFor(1), source: 'a' }], { now: T0 });
      const before = s.keyIndexStats();
      const bomb = indicatorFor(3);
      let reads = 0;
      Object.defineProperty(bomb, 'name', {
        enumerable: true,
        get: () => {
          if (++reads > 1) throw new RangeError('disk on fire');
          return 'x';
        },
      });
      await assert.rejects(
        s.upsert(
          [
            { object: indicatorFor(2), source: 'a' },
            { object: bomb, source: 'a' },
          ],
          { now: T0 },
        ),
      );
      assert.deepEqual(s.keyIndexStats(), before);
      // the rowid the failed batch used is taken by the next object; the failed id stays absent
      await s.upsert([{ object: indicatorFor(4), source: 'a' }], { now: T0 });
      assert.equal(await s.get(indicatorFor(2).id), undefined);
      assert.equal((await s.query({ value: '10.0.0.2' })).objects.length, 0);
      assert.deepEqual(
        (await s.query({ value: '10.0.0.4' })).objects.map((o) => o.id),
        [indicatorFor(4).id],
      );
      await s.close();
    });
  });

  it('a read-only open follows objects the writer adds and changes after it opened', async () => {
    await inTempDir(async (dir) => {
      const w = await openEmbeddedStore({ dataDir: dir });
      await w.upsert([{ object: indicatorFor(1), source: 'a' }], { now: T0 });
      const ro = await openEmbeddedStore({ dataDir: dir, readonly: true });
      assert.ok(await ro.get(indicatorFor(1).id));
      await w.upsert([{ object: indicatorFor(2), source: 'a' }], { now: T0 });
      assert.equal((await ro.get(indicatorFor(2).id))?.id, indicatorFor(2).id);
      assert.deepEqual(
        (await ro.query({ value: '10.0.0.2' })).objects.map((o) => o.id),
        [indicatorFor(2).id],
      );
      // the writer moves object 2 to another value: the reader finds it under the new one only
      const moved = {
        ...indicatorFor(2),
        pattern: "[ipv4-addr:value = '10.9.9.9']",
        modified: '2024-03-02T00:00:00.000Z',
      };
      await w.upsert([{ object: moved, source: 'a' }], { now: T0 });
      assert.deepEqual(
        (await ro.query({ value: '10.9.9.9' })).objects.map((o) => o.id),
        [indicatorFor(2).id],
      );
      assert.equal((await ro.query({ value: '10.0.0.2' })).objects.length, 0);
      await ro.close();
      await w.close();
    });
  });

  it('P10: a version 1 store is migrated in place (ids, values and change log kept); a read-only open of it is refused', async () => {
    await inTempDir(async (dir) => {
      // a version 1 file as the previous release wrote it
      const db = createV1Store(dir);
      const ins = db.prepare(V1_INSERT);
      const file = {
        type: 'file',
        spec_version: '2.1',
        id: 'file--0f6a6a8e-6f4d-5b6a-9a0e-3c2b1a0f9e8d',
        hashes: { MD5: 'aa'.repeat(16), 'SHA-256': 'bb'.repeat(32) },
      };
      ins.run(3, indicatorFor(1).id, 'indicator', null, 7, 'ipv4-addr\t10.0.0.1', JSON.stringify(indicatorFor(1)));
      ins.run(9, file.id, 'file', null, 8, `file\t${'aa'.repeat(16)}\nfile\t${'bb'.repeat(32)}`, JSON.stringify(file));
      db.close();
      await assert.rejects(
        openEmbeddedStore({ dataDir: dir, readonly: true }),
        new RegExp(`schema version 1; this stixgate reads version ${SCHEMA_VERSION} \\(open it once read-write`),
      );
      const s = await openEmbeddedStore({ dataDir: dir });
      assert.equal((await s.get(indicatorFor(1).id))?.id, indicatorFor(1).id);
      assert.deepEqual(
        (await s.query({ value: 'bb'.repeat(32) })).objects.map((o) => o.id),
        [file.id],
      );
      assert.deepEqual(
        (await s.query({ value: '10.0.0.1' })).objects.map((o) => o.id),
        [indicatorFor(1).id],
      );
      assert.equal(await s.getCursor('feed'), '42');
      assert.equal(await s.head(), 8);
      assert.deepEqual(s.keyIndexStats().ids, 2);
      assert.deepEqual(s.keyIndexStats().values, 3);
      // the rowids were kept (query continuation tokens stay valid) and the next object follows them
      await s.upsert([{ object: indicatorFor(2), source: 'a' }], { now: T0 });
      await s.close();
      const raw = new Database(join(dir, 'stixgate.db'), { readonly: true });
      assert.deepEqual(raw.prepare('SELECT rowid FROM objects ORDER BY rowid').pluck().all(), [3, 9, 10]);
      assert.deepEqual(
        raw.prepare("SELECT name FROM sqlite_master WHERE name IN ('object_values', 'object_keys')").pluck().all(),
        ['object_keys'],
      );
      assert.equal(
        raw.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get(),
        String(SCHEMA_VERSION),
      );
      // migration 3 counted what migration 2 kept; the upsert after it added its own
      assert.deepEqual(raw.prepare('SELECT type, state, n FROM counts ORDER BY type').all(), [
        { type: 'file', state: 0, n: 1 },
        { type: 'indicator', state: 0, n: 2 },
      ]);
      raw.close();
    });
  });
});

describe('embedded store: key snapshot', () => {
  const snap = (dir: string) => join(dir, 'keys.snapshot');

  it('a clean close writes the key tables and the next open reads them instead of scanning', async () => {
    await inTempDir(async (dir) => {
      let s = await openEmbeddedStore({ dataDir: dir });
      await s.upsert(
        [1, 2, 3].map((n) => ({ object: indicatorFor(n), source: 'a' })),
        { now: T0 },
      );
      assert.equal(s.keyIndexStats().loadedFrom, 'scan');
      await s.close();
      assert.ok(existsSync(snap(dir)));
      // a read-only open uses it and leaves it
      const ro = await openEmbeddedStore({ dataDir: dir, readonly: true });
      assert.equal(ro.keyIndexStats().loadedFrom, 'snapshot');
      await ro.close();
      assert.ok(existsSync(snap(dir)));
      s = await openEmbeddedStore({ dataDir: dir });
      assert.deepEqual(s.keyIndexStats(), {
        ids: 3,
        values: 3,
        bytes: s.keyIndexStats().bytes,
        loadedFrom: 'snapshot',
      });
      assert.equal(existsSync(snap(dir)), false, 'an open for writing removes the snapshot before any write');
      assert.equal((await s.get(indicatorFor(2).id))?.id, indicatorFor(2).id);
      assert.deepEqual(
        (await s.query({ value: '10.0.0.3' })).objects.map((o) => o.id),
        [indicatorFor(3).id],
      );
      assert.equal(
        (await s.upsert([{ object: indicatorFor(2), source: 'b' }], { now: T0 })).updated,
        1,
        'a known id is found through the loaded table',
      );
      await s.close();
    });
  });

  it('a snapshot that cannot be written does not fail the close; the next open scans', async () => {
    await inTempDir(async (dir) => {
      let s = await openEmbeddedStore({ dataDir: dir });
      await s.upsert([{ object: indicatorFor(1), source: 'a' }], { now: T0 });
      mkdirSync(join(dir, 'keys.snapshot.new')); // the temporary file's name is taken
      await s.close();
      assert.equal(existsSync(snap(dir)), false);
      s = await openEmbeddedStore({ dataDir: dir });
      assert.equal(s.keyIndexStats().loadedFrom, 'scan');
      assert.ok(await s.get(indicatorFor(1).id));
      // the value keys the store wrote itself (bound as REAL, unlike the migrations' INTEGERs) are scanned too
      assert.equal(s.keyIndexStats().values, 1);
      assert.deepEqual(
        (await s.query({ value: '10.0.0.1' })).objects.map((o) => o.id),
        [indicatorFor(1).id],
      );
      await s.close();
    });
  });

  it('a snapshot that does not describe the store (older, damaged, left by a crash) is not used', async () => {
    await inTempDir(async (dir) => {
      let s = await openEmbeddedStore({ dataDir: dir });
      await s.upsert([{ object: indicatorFor(1), source: 'a' }], { now: T0 });
      await s.close();
      const old = readFileSync(snap(dir));
      s = await openEmbeddedStore({ dataDir: dir });
      await s.upsert([{ object: indicatorFor(2), source: 'a' }], { now: T0 });
      await s.close();
      // an older snapshot put back beside a newer store: its token is not the store's
      writeFileSync(snap(dir), old);
      s = await openEmbeddedStore({ dataDir: dir });
      assert.equal(s.keyIndexStats().loadedFrom, 'scan');
      assert.ok(await s.get(indicatorFor(2).id));
      await s.close();
      // another store's snapshot at the same head (a restored backup, a copied directory): the
      // head matches, the token does not
      await inTempDir(async (other) => {
        const o = await openEmbeddedStore({ dataDir: other });
        await o.upsert(
          [7, 8].map((n) => ({ object: indicatorFor(n), source: 'a' })),
          { now: T0 },
        );
        await o.close();
        const mine = readFileSync(snap(dir));
        copyFileSync(snap(other), snap(dir));
        s = await openEmbeddedStore({ dataDir: dir });
        assert.equal(s.keyIndexStats().loadedFrom, 'scan');
        assert.ok(await s.get(indicatorFor(2).id));
        await s.close();
        assert.notDeepEqual(readFileSync(snap(dir)), mine);
      });
      // one flipped bit in the tables: the CRC fails
      const good = readFileSync(snap(dir));
      const bad = Buffer.from(good);
      bad[good.length - 100] = must(bad[good.length - 100], 'a byte near the end') ^ 0x10;
      writeFileSync(snap(dir), bad);
      s = await openEmbeddedStore({ dataDir: dir });
      assert.equal(s.keyIndexStats().loadedFrom, 'scan');
      assert.equal(s.keyIndexStats().ids, 2);
      // a store opened for writing and never closed (kill -9) leaves no token: a snapshot put
      // back beside it is not used either
      writeFileSync(snap(dir), good);
      await s.upsert([{ object: indicatorFor(3), source: 'a' }], { now: T0 });
      // the files as kill -9 would leave them, copied with the snapshot into another directory
      await inTempDir(async (crashed) => {
        for (const f of ['stixgate.db', 'stixgate.db-wal', 'keys.snapshot'])
          copyFileSync(join(dir, f), join(crashed, f));
        const c = await openEmbeddedStore({ dataDir: crashed });
        assert.equal(c.keyIndexStats().loadedFrom, 'scan');
        assert.equal(c.keyIndexStats().ids, 3);
        assert.ok(await c.get(indicatorFor(3).id));
        await c.close();
      });
      // truncated
      await s.close();
      writeFileSync(snap(dir), readFileSync(snap(dir)).subarray(0, 200));
      s = await openEmbeddedStore({ dataDir: dir });
      assert.equal(s.keyIndexStats().loadedFrom, 'scan');
      assert.equal(s.keyIndexStats().ids, 3);
      await s.close();
    });
  });
});
