import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { StixgateError } from '../../src/core/errors.js';
import { EmbeddedStore, openEmbeddedStore } from '../../src/store/embedded/index.js';
import { runStoreContract } from '../store-contract.js';
import { T0, indicatorFor } from './fixtures.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'stixgate-store-'));
}

runStoreContract('embedded', async () => {
  const dir = tempDir();
  const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
  return { store, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
});

runStoreContract('embedded without hot cache', async () => {
  const dir = tempDir();
  const store = await openEmbeddedStore({ dataDir: join(dir, 'data'), hotCacheSize: 0, sync: 'full' });
  return { store, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
});

async function rejectsWith(p: Promise<unknown>, code: string, pattern: RegExp): Promise<StixgateError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof StixgateError, `expected a StixgateError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail(`expected ${code}`);
}

describe('embedded store: files, lock, faults', () => {
  it('persists across close and reopen', async () => {
    const dir = tempDir();
    try {
      const s1 = await openEmbeddedStore({ dataDir: dir });
      await s1.upsert([{ object: indicatorFor(1), source: 'a' }], { now: T0, cursors: { a: '9' } });
      await s1.close();
      assert.equal(existsSync(join(dir, 'LOCK')), false, 'close releases the lock');
      const s2 = await openEmbeddedStore({ dataDir: dir });
      assert.equal((await s2.get(indicatorFor(1).id))?.name, indicatorFor(1).name);
      assert.equal(await s2.getCursor('a'), '9');
      assert.equal(await s2.head(), 1);
      await s2.upsert([{ object: indicatorFor(2), source: 'a' }], { now: T0 });
      assert.equal(await s2.head(), 2);
      await s2.close();
      const ro = await openEmbeddedStore({ dataDir: dir, readonly: true });
      assert.equal((await ro.stats()).objects, 2);
      await ro.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('D7: a second open of the same data dir is refused naming the dir and holder pid; a stale lock is taken over', async () => {
    const dir = tempDir();
    try {
      const s1 = await openEmbeddedStore({ dataDir: dir });
      const e = await rejectsWith(openEmbeddedStore({ dataDir: dir }), 'STIXGATE_ERR_STORE_LOCKED', new RegExp(`${dir}.*process ${process.pid}`));
      assert.equal(e.reason, 'locked');
      // another process is refused too, with exit status from its own error
      const child = spawnSync(process.execPath, ['--import', 'tsx', '-e',
        `import('./src/store/embedded/index.ts').then((m) => m.openEmbeddedStore({ dataDir: ${JSON.stringify(dir)} })).then(() => process.exit(0), (e) => { console.log(e.code + ' ' + e.message); process.exit(3); })`],
        { cwd: process.cwd(), encoding: 'utf8', timeout: 30_000 });
      assert.equal(child.status, 3, child.stderr);
      assert.match(child.stdout, new RegExp(`^STIXGATE_ERR_STORE_LOCKED data directory ${dir} is in use by process ${process.pid}`));
      await s1.close();
      // a lock left by a dead process
      const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
      writeFileSync(join(dir, 'LOCK'), `${dead.stdout.trim()}\n`);
      const s2 = await openEmbeddedStore({ dataDir: dir });
      assert.equal(readFileSync(join(dir, 'LOCK'), 'utf8').trim(), String(process.pid));
      await s2.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('D6: an unusable data dir fails fast at open naming the path', async () => {
    const dir = tempDir();
    try {
      const file = join(dir, 'not-a-dir');
      writeFileSync(file, 'x');
      const start = Date.now();
      await rejectsWith(openEmbeddedStore({ dataDir: join(file, 'data') }), 'STIXGATE_ERR_STORE_IO', new RegExp(`${file}/data`));
      await rejectsWith(openEmbeddedStore({ dataDir: file }), 'STIXGATE_ERR_STORE_IO', new RegExp(`${file}.*not a directory`));
      assert.ok(Date.now() - start < 2000);
      // a directory the process may not write: root bypasses modes, so run that check as nobody
      const ro = join(dir, 'ro');
      rmSync(ro, { force: true, recursive: true });
      const s = await openEmbeddedStore({ dataDir: ro });
      await s.close();
      chmodSync(dir, 0o755);
      chmodSync(ro, 0o555);
      if (process.getuid?.() === 0) {
        const child = spawnSync(process.execPath, ['--import', 'tsx', '-e',
          `import('./src/store/embedded/index.ts').then((m) => m.openEmbeddedStore({ dataDir: ${JSON.stringify(ro)} })).then(() => process.exit(0), (e) => { console.log(e.code + ' ' + e.message); process.exit(3); })`],
          { cwd: process.cwd(), encoding: 'utf8', timeout: 30_000, uid: 65534, gid: 65534, env: { ...process.env, HOME: '/tmp' } });
        assert.equal(child.status, 3, child.stderr);
        assert.match(child.stdout, new RegExp(`^STIXGATE_ERR_STORE_IO store cannot use ${ro}: data directory not usable \\(EACCES`));
      } else {
        await rejectsWith(openEmbeddedStore({ dataDir: ro }), 'STIXGATE_ERR_STORE_IO', new RegExp(ro));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('D2/P5: garbage, truncated and empty database files fail at open with STORE_CORRUPT', async () => {
    const dir = tempDir();
    try {
      const db = join(dir, 'stixgate.db');
      const s = await openEmbeddedStore({ dataDir: dir });
      await s.upsert(Array.from({ length: 3000 }, (_, i) => ({ object: indicatorFor(i), source: 'a' })), { now: T0 });
      await s.close();
      const good = readFileSync(db);
      assert.ok(good.length > 100_000);

      writeFileSync(db, Buffer.alloc(good.length, 0x5a));
      await rejectsWith(openEmbeddedStore({ dataDir: dir }), 'STIXGATE_ERR_STORE_CORRUPT', new RegExp(`store file ${db} is damaged \\(file is not a database\\)`));
      assert.equal(existsSync(join(dir, 'LOCK')), false, 'a failed open releases the lock');

      writeFileSync(db, good.subarray(0, Math.floor(good.length / 2)));
      await rejectsWith(openEmbeddedStore({ dataDir: dir, integrityCheck: 'always' }), 'STIXGATE_ERR_STORE_CORRUPT', new RegExp(`store file ${db} is damaged`));

      const flipped = Buffer.from(good);
      for (let i = 8192; i < flipped.length; i += 4096) flipped[i + 100] ^= 0xff; // a byte in every page past the schema
      writeFileSync(db, flipped);
      await rejectsWith(openEmbeddedStore({ dataDir: dir, integrityCheck: 'always' }), 'STIXGATE_ERR_STORE_CORRUPT', /damaged/);

      truncateSync(db, 0);
      await rejectsWith(openEmbeddedStore({ dataDir: dir }), 'STIXGATE_ERR_STORE_CORRUPT', new RegExp(`store file ${db} is damaged \\(the file is empty\\)`));
      assert.equal(statSync(db).size, 0, 'a damaged file is never overwritten');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rolls a failed batch back whole: neither data nor cursor', async () => {
    const dir = tempDir();
    try {
      const s = new EmbeddedStore({ dataDir: dir });
      await s.open();
      await s.upsert([{ object: indicatorFor(1), source: 'a' }], { now: T0, cursors: { a: '1' } });
      const bomb = indicatorFor(3);
      let reads = 0;
      Object.defineProperty(bomb, 'name', { enumerable: true, get: () => { if (++reads > 1) throw new RangeError('disk on fire'); return 'x'; } });
      await assert.rejects(s.upsert([{ object: indicatorFor(2), source: 'a' }, { object: bomb, source: 'a' }], { now: T0, cursors: { a: '2' } }));
      assert.equal(await s.get(indicatorFor(2).id), undefined);
      assert.equal(await s.getCursor('a'), '1');
      assert.equal(await s.head(), 1);
      // a value with no JSON form is one rejected item, not a failed batch
      const r = await s.upsert([{ object: { ...indicatorFor(4), x_bad: Number.NaN }, source: 'a' }, { object: indicatorFor(2), source: 'a' }], { now: T0, cursors: { a: '3' } });
      assert.equal(r.created, 1);
      assert.equal(r.rejected.length, 1);
      assert.equal(r.rejected[0].reason, 'stix_invalid');
      assert.equal(await s.getCursor('a'), '3');
      await s.close();
      await rejectsWith(s.ping(), 'STIXGATE_ERR_STORE_UNAVAILABLE', /not open/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('indexEntries lists active indicators and observables with their values', async () => {
    const dir = tempDir();
    try {
      const s = await openEmbeddedStore({ dataDir: dir });
      await s.upsert([
        { object: indicatorFor(1), source: 'a' },
        { object: { ...indicatorFor(2), revoked: true }, source: 'a' },
        { object: { type: 'domain-name', id: 'domain-name--0f6a6a8e-6f4d-5b6a-9a0e-3c2b1a0f9e8d', value: 'evil.example' }, source: 'a' },
        { object: { type: 'malware', id: 'malware--0f6a6a8e-6f4d-4b6a-9a0e-3c2b1a0f9e8d', name: 'm', is_family: true }, source: 'a' },
      ], { now: T0 });
      const p = await s.indexEntries(0, 10);
      assert.deepEqual(p.entries.map((e) => [e.type, e.observables, e.seq]), [
        ['indicator', [{ type: 'ipv4-addr', value: '10.0.0.1' }], 1],
        ['domain-name', [{ type: 'domain-name', value: 'evil.example' }], 3],
      ]);
      assert.equal(p.next, 3);
      await s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
