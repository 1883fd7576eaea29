/**
 * Run by the D1 test inside a private mount namespace whose data directory is a small tmpfs:
 * fills the disk, ingests until the store reports a full disk, frees the space, ingests again,
 * reopens with a full integrity check, and prints what it saw as one JSON line.
 */
import { rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { StixgateError } from '../../src/core/errors.js';
import { T0, indicatorFor } from './fixtures.js';
import { must } from '../helpers/must.js';

const mount = must(process.argv[2], 'process.argv[2]');
const dataDir = join(mount, 'data');
const BATCH = 200;
const batch = (b: number) =>
  Array.from({ length: BATCH }, (_, i) => ({ object: indicatorFor(b * BATCH + i), source: 'a' }));

const store = await openEmbeddedStore({ dataDir, hotCacheSize: 0 });
const fs = statfsSync(mount);
const free = Number(fs.bavail) * Number(fs.bsize);
const filler = join(mount, 'filler');
writeFileSync(filler, Buffer.alloc(Math.max(0, free - 512 * 1024)));
let ok = 0;
let error: { code: string; reason?: string; message: string } | undefined;
for (let b = 0; b < 1000 && !error; b++) {
  try {
    await store.upsert(batch(b), { now: T0, cursors: { a: String(b) } });
    ok++;
  } catch (e) {
    error = {
      code: e instanceof StixgateError ? e.code : String((e as { code?: unknown }).code),
      reason: (e as StixgateError).reason,
      message: (e as Error).message,
    };
  }
}
const cursorAfterFull = await store.getCursor('a');
const objectsAfterFull = (await store.stats()).objects;
rmSync(filler);
await store.upsert(batch(ok), { now: T0, cursors: { a: String(ok) } });
const cursorAfterFree = await store.getCursor('a');
await store.close();
const again = await openEmbeddedStore({ dataDir, integrityCheck: 'always', readonly: true });
const reopened = {
  objects: (await again.stats()).objects,
  cursor: await again.getCursor('a'),
  head: await again.head(),
};
await again.close();
console.log(JSON.stringify({ ok, error, cursorAfterFull, objectsAfterFull, cursorAfterFree, reopened }));
