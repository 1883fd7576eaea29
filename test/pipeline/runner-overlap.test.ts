import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedStore } from '../../src/store/embedded/store.js';
import type { IngestItem, Store, UpsertOptions, UpsertResult } from '../../src/store/contract.js';
import { runSource } from '../../src/pipeline/runner.js';
import type { CommonSourceConfig, Page, Source } from '../../src/pipeline/types.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { T0, indicatorFor } from '../store/fixtures.js';

const PAGE = 10;

/** A real store whose upserts wait for a release (so the test decides when a batch commits), logging what happens. */
function gatedStore(inner: Store, log: string[], failAt?: number): { store: Store; release: () => void } {
  let n = 0;
  const gates: (() => void)[] = [];
  let released = 0;
  const store = Object.create(inner) as Store;
  store.upsert = async (items: IngestItem[], opts: UpsertOptions): Promise<UpsertResult> => {
    const k = ++n;
    log.push(`upsert ${k} start`);
    if (released < k) await new Promise<void>((r) => gates.push(r));
    if (k === failAt) {
      log.push(`upsert ${k} failed`);
      throw new Error(`disk full at batch ${k}`);
    }
    const r = await inner.upsert(items, opts);
    log.push(`upsert ${k} end`);
    return r;
  };
  return {
    store,
    release: () => {
      released++;
      gates.shift()?.();
    },
  };
}

function source(pages: number, log: string[]): Source {
  return {
    async *pages() {
      for (let p = 1; p <= pages; p++) {
        log.push(`page ${p}`);
        const items = Array.from({ length: PAGE }, (_, i) => ({ object: indicatorFor(p * 100 + i) }));
        yield { items, rejections: [], received: PAGE, cursor: `c${p}` } satisfies Page;
      }
    },
  };
}

async function withStore(fn: (s: EmbeddedStore) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-runner-'));
  const s = new EmbeddedStore({ dataDir: dir });
  await s.open();
  try {
    await fn(s);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const config = { type: 'test', enabled: true, tlp: 'green', labels: [] } as unknown as CommonSourceConfig;
const run = (store: Store, src: Source) =>
  runSource({
    id: 'feed',
    source: src,
    config,
    store,
    http: {} as never,
    logger: silentLogger(),
    allowRed: false,
    signal: new AbortController().signal,
    now: () => T0,
    batchSize: PAGE,
  });

test('the next batch is read while the previous one is in the store; batches reach the store one at a time, in order', async () => {
  await withStore(async (inner) => {
    const log: string[] = [];
    const { store, release } = gatedStore(inner, log);
    const done = run(store, source(3, log));
    // let the runner go as far as it can while batch 1 is held
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(log, ['page 1', 'upsert 1 start', 'page 2']);
    for (let i = 0; i < 3; i++) {
      release();
      for (let k = 0; k < 20; k++) await new Promise((r) => setImmediate(r));
    }
    const sum = await done;
    assert.deepEqual(log, [
      'page 1',
      'upsert 1 start',
      'page 2',
      'upsert 1 end',
      'upsert 2 start',
      'page 3',
      'upsert 2 end',
      'upsert 3 start',
      'upsert 3 end',
    ]);
    assert.equal(sum.created, 3 * PAGE);
    assert.equal(sum.cursor, 'c3');
    assert.equal(await inner.getCursor('source:feed'), 'c3');
  });
});

test('a batch the store refuses ends the run with its error; nothing after it is sent and its cursor is not committed', async () => {
  await withStore(async (inner) => {
    const log: string[] = [];
    const { store, release } = gatedStore(inner, log, 2);
    for (let i = 0; i < 5; i++) release();
    await assert.rejects(run(store, source(5, log)), /disk full at batch 2/);
    assert.ok(!log.includes('upsert 3 start'), log.join(', '));
    assert.equal(await inner.getCursor('source:feed'), 'c1');
    assert.equal((await inner.stats()).objects, PAGE);
  });
});
