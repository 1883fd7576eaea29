import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { StixgateError } from '../../src/core/errors.js';
import { EmbeddedStore, openEmbeddedStore, openThreadedStore } from '../../src/store/embedded/index.js';
import { runStoreContract } from '../store-contract.js';
import { T0, indicatorFor } from './fixtures.js';
import { must } from '../helpers/must.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'stixgate-store-'));
}

runStoreContract('embedded', async () => {
  const dir = tempDir();
  const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

runStoreContract('embedded on a writer thread', async () => {
  const dir = tempDir();
  const store = await openThreadedStore({ dataDir: join(dir, 'data') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

runStoreContract('embedded without hot cache', async () => {
  const dir = tempDir();
  const store = await openEmbeddedStore({ dataDir: join(dir, 'data'), hotCacheSize: 0, sync: 'full' });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

/** Opens the store in another process: exit 0 when it opened, 3 with `code message` on stdout when not. */
function openInChild(dir: string) {
  return spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `import('./src/store/embedded/index.ts').then((m) => m.openEmbeddedStore({ dataDir: ${JSON.stringify(dir)} })).then((s) => s.close()).then(() => process.exit(0), (e) => { console.log(e.code + ' ' + e.message); process.exit(3); })`,
    ],
    { cwd: process.cwd(), encoding: 'utf8', timeout: 30_000 },
  );
}

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
      assert.equal(existsSync(join(dir, 'stixgate.lock.owner')), false, 'close removes the owner note');
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

  it('D7: a second open of the same data dir is refused naming the dir and holder pid; a read-only open still works; close releases', async () => {
    const dir = tempDir();
    try {
      const s1 = await openEmbeddedStore({ dataDir: dir });
      await s1.upsert([{ object: indicatorFor(1), source: 'a' }], { now: T0 });
      const e = await rejectsWith(
        openEmbeddedStore({ dataDir: dir }),
        'STIXGATE_ERR_STORE_LOCKED',
        new RegExp(
          `data directory ${dir} is in use by another process \\(pid ${process.pid} on host ".+" since \\d{4}-.+\\); lock file ${dir}/stixgate.lock \\(at ${dir}\\)$`,
        ),
      );
      assert.equal(e.reason, 'locked');
      // another process is refused too, with exit status from its own error
      const child = openInChild(dir);
      assert.equal(child.status, 3, child.stderr);
      assert.match(
        child.stdout,
        new RegExp(
          `^STIXGATE_ERR_STORE_LOCKED data directory ${dir} is in use by another process \\(pid ${process.pid} `,
        ),
      );
      const ro = await openEmbeddedStore({ dataDir: dir, readonly: true });
      assert.equal((await ro.stats()).objects, 1);
      await ro.close();
      await s1.close();
      assert.equal(openInChild(dir).status, 0, 'the lock is free once its holder closed the store');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('D7: the lock dies with its holder: after kill -9 the next open succeeds; a pid file of an earlier version names a live pid and is ignored', async () => {
    const dir = tempDir();
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import('./src/store/embedded/index.ts').then((m) => m.openEmbeddedStore({ dataDir: ${JSON.stringify(dir)} })).then(() => { console.log('held'); setInterval(() => {}, 1000); })`,
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((r) => holder.on('close', r));
    try {
      await new Promise<void>((r) =>
        holder.stdout.on('data', (d: Buffer) => {
          if (String(d).includes('held')) r();
        }),
      );
      await rejectsWith(
        openEmbeddedStore({ dataDir: dir }),
        'STIXGATE_ERR_STORE_LOCKED',
        new RegExp(`in use by another process \\(pid ${holder.pid} `),
      );
      holder.kill('SIGKILL');
      await exited;
      // the pid-file lock of earlier versions: it names a live process (this one), which meant "held"
      writeFileSync(join(dir, 'LOCK'), `${process.pid}\n`);
      const s = await openEmbeddedStore({ dataDir: dir });
      assert.equal(existsSync(join(dir, 'LOCK')), false, 'the old pid file is removed once the lock is held');
      await s.close();
    } finally {
      holder.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('D1/D7: a full disk while taking the lock fails with STORE_IO "disk full" and leaves no temporary file; freed space lets the next open in', (t) => {
    const dir = tempDir();
    try {
      const open = `import('./src/store/embedded/index.ts').then((m) => m.openEmbeddedStore({ dataDir: process.argv[1] })).then((s) => s.close()).then(() => console.log('opened'), (e) => console.log(e.code + ' ' + e.message))`;
      const node = `${JSON.stringify(process.execPath)} --import tsx -e "$OPEN"`;
      // a private mount namespace with a 4 MiB tmpfs filled to the last block
      const script = `set -e; mount -t tmpfs -o size=4m tmpfs "$D"; head -c 8388608 /dev/zero > "$D/fill" 2>/dev/null || true
        ${node} "$D"; echo "files: $(ls -A "$D" | tr '\\n' ' ')"; rm "$D/fill"; ${node} "$D"`;
      const r = spawnSync('unshare', ['--mount', 'sh', '-c', script], {
        cwd: process.cwd(),
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, D: dir, OPEN: open },
      });
      if (r.error || (r.status !== 0 && /mount|unshare/.test(r.stderr))) {
        t.skip(`skipped: a private tmpfs cannot be mounted here (${r.error?.message ?? r.stderr.trim()})`);
        return;
      }
      assert.equal(r.status, 0, r.stderr);
      const [full, files, after] = r.stdout.trim().split('\n');
      assert.equal(
        full,
        `STIXGATE_ERR_STORE_IO cannot take the store lock ${dir}/stixgate.lock: disk full (at ${dir}/stixgate.lock)`,
      );
      assert.doesNotMatch(must(files, 'files'), /tmp|LOCK/, 'no temporary lock file is left behind');
      assert.equal(after, 'opened');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('D1: a full disk during ingest fails the batch with STORE_IO "disk full", commits neither data nor cursor, corrupts nothing; freed space lets ingest resume', (t) => {
    const dir = tempDir();
    try {
      const r = spawnSync(
        'unshare',
        [
          '--mount',
          'sh',
          '-c',
          `mount -t tmpfs -o size=8m tmpfs "$D" && ${JSON.stringify(process.execPath)} --import tsx test/store/enospc-child.ts "$D"`,
        ],
        { cwd: process.cwd(), encoding: 'utf8', timeout: 120_000, env: { ...process.env, D: dir } },
      );
      if (r.error || (r.status !== 0 && /mount|unshare/.test(r.stderr) && !r.stdout)) {
        t.skip(`skipped: a private tmpfs cannot be mounted here (${r.error?.message ?? r.stderr.trim()})`);
        return;
      }
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(must(r.stdout.trim().split('\n').at(-1), "r.stdout.trim().split('\\n').at(-1)")) as {
        ok: number;
        error?: { code: string; reason: string; message: string };
        cursorAfterFull?: string;
        objectsAfterFull: number;
        cursorAfterFree?: string;
        reopened: { objects: number; cursor?: string; head: number };
      };
      assert.ok(out.ok > 0, 'some batches fit before the disk filled');
      assert.equal(out.error?.code, 'STIXGATE_ERR_STORE_IO');
      assert.equal(out.error?.reason, 'io');
      assert.match(must(out.error, 'out.error').message, /disk full/);
      // the failed batch left nothing: the cursor and the objects are those of the last good batch
      assert.equal(out.cursorAfterFull, String(out.ok - 1));
      assert.equal(out.objectsAfterFull, out.ok * 200);
      assert.equal(out.cursorAfterFree, String(out.ok));
      assert.deepEqual(out.reopened, { objects: (out.ok + 1) * 200, cursor: String(out.ok), head: (out.ok + 1) * 200 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('D6: an unusable data dir fails fast at open naming the path', async () => {
    const dir = tempDir();
    try {
      const file = join(dir, 'not-a-dir');
      writeFileSync(file, 'x');
      // fails at once: the open makes no retry and waits for nothing (how fast is not a test's business)
      await rejectsWith(
        openEmbeddedStore({ dataDir: join(file, 'data') }),
        'STIXGATE_ERR_STORE_IO',
        new RegExp(`${file}/data`),
      );
      await rejectsWith(
        openEmbeddedStore({ dataDir: file }),
        'STIXGATE_ERR_STORE_IO',
        new RegExp(`${file}.*not a directory`),
      );
      // a directory the process may not write: root bypasses modes, so run that check as nobody
      const ro = join(dir, 'ro');
      rmSync(ro, { force: true, recursive: true });
      const s = await openEmbeddedStore({ dataDir: ro });
      await s.close();
      chmodSync(dir, 0o755);
      chmodSync(ro, 0o555);
      if (process.getuid?.() === 0) {
        const child = spawnSync(
          process.execPath,
          [
            '--import',
            'tsx',
            '-e',
            `import('./src/store/embedded/index.ts').then((m) => m.openEmbeddedStore({ dataDir: ${JSON.stringify(ro)} })).then(() => process.exit(0), (e) => { console.log(e.code + ' ' + e.message); process.exit(3); })`,
          ],
          {
            cwd: process.cwd(),
            encoding: 'utf8',
            timeout: 30_000,
            uid: 65534,
            gid: 65534,
            env: { ...process.env, HOME: '/tmp' },
          },
        );
        assert.equal(child.status, 3, child.stderr);
        assert.match(
          child.stdout,
          new RegExp(`^STIXGATE_ERR_STORE_IO store cannot use ${ro}: data directory not usable \\(EACCES`),
        );
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
      await s.upsert(
        Array.from({ length: 3000 }, (_, i) => ({ object: indicatorFor(i), source: 'a' })),
        { now: T0 },
      );
      await s.close();
      const good = readFileSync(db);
      assert.ok(good.length > 100_000);

      writeFileSync(db, Buffer.alloc(good.length, 0x5a));
      await rejectsWith(
        openEmbeddedStore({ dataDir: dir }),
        'STIXGATE_ERR_STORE_CORRUPT',
        new RegExp(`store file ${db} is damaged \\(file is not a database\\)`),
      );
      assert.equal(
        openInChild(dir).status,
        3,
        'a failed open releases the lock (the child meets the damaged file, not the lock)',
      );
      assert.match(openInChild(dir).stdout, /^STIXGATE_ERR_STORE_CORRUPT /);

      writeFileSync(db, good.subarray(0, Math.floor(good.length / 2)));
      await rejectsWith(
        openEmbeddedStore({ dataDir: dir, integrityCheck: 'always' }),
        'STIXGATE_ERR_STORE_CORRUPT',
        new RegExp(`store file ${db} is damaged`),
      );

      const flipped = Buffer.from(good);
      for (let i = 8192; i < flipped.length; i += 4096)
        flipped[i + 100] = must(flipped[i + 100], 'a byte of the page') ^ 0xff; // a byte in every page past the schema
      writeFileSync(db, flipped);
      await rejectsWith(
        openEmbeddedStore({ dataDir: dir, integrityCheck: 'always' }),
        'STIXGATE_ERR_STORE_CORRUPT',
        /damaged/,
      );

      truncateSync(db, 0);
      await rejectsWith(
        openEmbeddedStore({ dataDir: dir }),
        'STIXGATE_ERR_STORE_CORRUPT',
        new RegExp(`store file ${db} is damaged \\(the file is empty\\)`),
      );
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
          { now: T0, cursors: { a: '2' } },
        ),
      );
      assert.equal(await s.get(indicatorFor(2).id), undefined);
      assert.equal(await s.getCursor('a'), '1');
      assert.equal(await s.head(), 1);
      // a value with no JSON form is one rejected item, not a failed batch
      const r = await s.upsert(
        [
          { object: { ...indicatorFor(4), x_bad: Number.NaN }, source: 'a' },
          { object: indicatorFor(2), source: 'a' },
        ],
        { now: T0, cursors: { a: '3' } },
      );
      assert.equal(r.created, 1);
      assert.equal(r.rejected.length, 1);
      assert.equal(must(r.rejected[0], 'r.rejected[0]').reason, 'stix_invalid');
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
      await s.upsert(
        [
          { object: indicatorFor(1), source: 'a' },
          { object: { ...indicatorFor(2), revoked: true }, source: 'a' },
          {
            object: {
              type: 'domain-name',
              id: 'domain-name--0f6a6a8e-6f4d-5b6a-9a0e-3c2b1a0f9e8d',
              value: 'evil.example',
            },
            source: 'a',
          },
          {
            object: {
              type: 'malware',
              id: 'malware--0f6a6a8e-6f4d-4b6a-9a0e-3c2b1a0f9e8d',
              name: 'm',
              is_family: true,
            },
            source: 'a',
          },
        ],
        { now: T0 },
      );
      const p = await s.indexEntries(0, 10);
      assert.deepEqual(
        p.entries.map((e) => [e.type, e.observables, e.seq]),
        [
          ['indicator', [{ type: 'ipv4-addr', value: '10.0.0.1' }], 1],
          ['domain-name', [{ type: 'domain-name', value: 'evil.example' }], 3],
        ],
      );
      assert.equal(p.next, 3);
      await s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
