import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StixgateError } from '../../src/core/errors.js';
import { spool } from '../../src/pipeline/spool.js';
import { must } from '../helpers/must.js';

async function* chunks(n: number, size: number, failAt?: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < n; i++) {
    if (i === failAt) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    yield Buffer.alloc(size, i % 256);
  }
}

async function collect(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of body) parts.push(b);
  return Buffer.concat(parts);
}

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stixgate-spool-test-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  'a body under memoryBytes stays in memory',
  withDir(async (dir) => {
    const s = await spool(chunks(4, 1000), { maxBytes: 1 << 20, memoryBytes: 8192, dir, name: 'feed' });
    assert.equal(s.onDisk, false);
    assert.equal(s.size, 4000);
    assert.deepEqual(await collect(s.body), Buffer.concat([...Array(4).keys()].map((i) => Buffer.alloc(1000, i))));
    assert.deepEqual(readdirSync(dir), []);
  }),
);

test(
  'a larger body goes to a file that has no name while it is read, and comes back byte for byte',
  withDir(async (dir) => {
    const s = await spool(chunks(300, 1000), { maxBytes: 1 << 20, memoryBytes: 8192, dir, name: 'feed' });
    assert.equal(s.onDisk, true);
    assert.equal(s.size, 300_000);
    assert.deepEqual(readdirSync(dir), [], 'the temporary file is unlinked as soon as it is open');
    const got = await collect(s.body);
    assert.equal(got.length, 300_000);
    for (let i = 0; i < 300; i++) assert.equal(got[i * 1000 + 999], i % 256);
  }),
);

test(
  'a transfer that fails mid-body rejects the spool and leaves nothing behind',
  withDir(async (dir) => {
    await assert.rejects(
      spool(chunks(300, 1000, 150), { maxBytes: 1 << 20, memoryBytes: 8192, dir, name: 'feed' }),
      /socket hang up/,
    );
    assert.deepEqual(readdirSync(dir), []);
  }),
);

test(
  'more than maxBytes is refused with too_large, naming the source; nothing left behind',
  withDir(async (dir) => {
    await assert.rejects(
      spool(chunks(300, 1000), { maxBytes: 100_000, memoryBytes: 8192, dir, name: 'feed' }),
      (e: StixgateError) => {
        assert.equal(e.reason, 'too_large');
        assert.deepEqual(e.location, { source: 'feed' });
        return true;
      },
    );
    assert.deepEqual(readdirSync(dir), []);
  }),
);

test(
  'a reader that stops early closes the file',
  withDir(async (dir) => {
    const s = await spool(chunks(300, 1000), { maxBytes: 1 << 20, memoryBytes: 8192, dir, name: 'feed' });
    const it = s.body[Symbol.asyncIterator]();
    assert.equal((await it.next()).done, false);
    assert.deepEqual(await must(it.return, 'it.return').call(it, undefined), { done: true, value: undefined });
    assert.equal((await it.next()).done, true);
  }),
);
