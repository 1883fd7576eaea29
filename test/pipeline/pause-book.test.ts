import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PauseBook, PAUSED_CURSOR } from '../../src/daemon-admin.js';
import { Scheduler } from '../../src/pipeline/scheduler.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { Metrics } from '../../src/telemetry/metrics.js';

/**
 * An admin pause holds across the scheduler's ticks, across a new scheduler (what a reload
 * builds) and a new process (kept in the store), and the gauge says so; counted in runs on a
 * fake clock.
 */
test('a paused job skips every tick, through a reload and a restart; resume runs it on the next tick (fake clock)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-pause-'));
  const store = await openEmbeddedStore({ dataDir: dir });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const metrics = new Metrics({ defaults: false });
  const gauge = async (job: string) =>
    (await metrics.jobPaused.get()).values.find((v) => v.labels.job_name === job)?.value;
  const runs = { feed: 0, other: 0 };
  const scheduler = () => {
    const s = new Scheduler({ onError: () => undefined });
    s.add('feed', { intervalMs: 60_000 }, async () => void runs.feed++);
    s.add('other', { intervalMs: 60_000 }, async () => void runs.other++);
    return s;
  };
  const book = new PauseBook();
  await book.load(store);
  await book.set(store, 'feed', true);
  assert.equal(await store.getCursor(PAUSED_CURSOR), '["feed"]');

  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_800_000_000_000 });
  const settle = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  const ticks = async (n: number) => {
    for (let i = 0; i < n; i++) {
      t.mock.timers.tick(60_000);
      await settle();
    }
  };

  let s = scheduler();
  book.apply(s, metrics);
  s.start();
  await ticks(3);
  assert.deepEqual(runs, { feed: 0, other: 3 }, 'the paused job skipped three ticks');
  assert.equal(await gauge('feed'), 1);
  assert.equal(await gauge('other'), 0);

  // a reload builds a new scheduler: the pause is applied to it before it starts
  await s.stop(1000);
  s = scheduler();
  book.apply(s, metrics);
  s.start();
  await ticks(2);
  assert.deepEqual(runs, { feed: 0, other: 5 });

  // a restart reads the pause back from the store
  await s.stop(1000);
  const again = new PauseBook();
  await again.load(store);
  assert.equal(again.has('feed'), true);
  s = scheduler();
  again.apply(s, metrics);
  s.start();
  await ticks(1);
  assert.deepEqual(runs, { feed: 0, other: 6 });

  await again.set(store, 'feed', false);
  again.apply(s, metrics);
  assert.equal(await gauge('feed'), 0);
  await ticks(1);
  assert.deepEqual(runs, { feed: 1, other: 7 }, 'resumed: the next tick runs it');
  assert.equal(await store.getCursor(PAUSED_CURSOR), '[]');
  await s.stop(1000);
});
