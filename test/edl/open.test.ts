/**
 * The first build of the firewall lists runs in the background (`EdlLists.open`): the lists are
 * not ready until it is complete, a store that fails is tried again after `follow_interval_ms`
 * (fake timers) and never yields a partial list, and following starts once the build is in place.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessPolicy } from '../../src/access/policy.js';
import { validate } from '../../src/core/schema.js';
import { EdlLists, edlSchema } from '../../src/edl/index.js';
import { NO_DECAY_SCORING } from '../../src/score/model.js';
import type { ChangePage } from '../../src/store/contract.js';
import { ChangeLogStore, T0, indicator } from '../lookup/fixtures.js';

/** A change-log store whose next `failures` reads fail, and whose reads wait for `gate` when set. */
class FlakyStore extends ChangeLogStore {
  failures = 0;
  reads = 0;
  gate?: Promise<void>;
  override async changes(after: number, limit: number): Promise<ChangePage> {
    this.reads++;
    if (this.gate) await this.gate;
    if (this.failures > 0) {
      this.failures--;
      throw new Error('store unavailable');
    }
    return super.changes(after, limit);
  }
}

const flush = () => new Promise((r) => setImmediate(r));

function lists(store: FlakyStore) {
  const cfg = validate(edlSchema, {
    follow_interval_ms: 1000,
    lists: { open: { format: 'plain', max_tlp: 'clear', kinds: ['ip'] } },
  });
  assert.ok(cfg.ok);
  return new EdlLists(store.asStore(), cfg.value, {
    access: accessPolicy({ defaultTlp: 'amber', scoring: NO_DECAY_SCORING }),
    now: () => T0,
    pageSize: 2,
  });
}
const body = (l: EdlLists) => {
  const r = l.get('open', 'ip');
  assert.ok(!('missing' in r));
  return r.snapshot.body.toString();
};

test('open: not ready while the first build runs; ready with the whole list once it is in place', async () => {
  const store = new FlakyStore();
  for (let n = 1; n <= 5; n++)
    store.push(indicator({ n, pattern: `[ipv4-addr:value = '198.51.100.${n}']`, tlp: 'clear' }));
  let release!: () => void;
  store.gate = new Promise((r) => (release = r));
  const l = lists(store);
  const opened = l.open();
  await flush();
  assert.equal(l.ready, false);
  assert.equal(body(l), '', 'nothing is served before the build is in place');
  release();
  await opened;
  assert.equal(l.ready, true);
  assert.equal(body(l), '198.51.100.1\n198.51.100.2\n198.51.100.3\n198.51.100.4\n198.51.100.5\n');
  l.stop();
});

test('open: a store error fails the build (no partial list is put in place) and it is tried again after follow_interval_ms; then the lists follow the change log', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const store = new FlakyStore();
  for (let n = 1; n <= 5; n++)
    store.push(indicator({ n, pattern: `[ipv4-addr:value = '198.51.100.${n}']`, tlp: 'clear' }));
  store.failures = 1;
  const l = lists(store);
  let done = false;
  const opened = l.open().then(() => (done = true));
  for (let i = 0; i < 5; i++) await flush();
  assert.deepEqual([l.ready, done, store.reads], [false, false, 1]);
  t.mock.timers.tick(999);
  for (let i = 0; i < 5; i++) await flush();
  assert.equal(store.reads, 1, 'not retried before follow_interval_ms');
  t.mock.timers.tick(1);
  await opened;
  assert.equal(l.ready, true);
  assert.equal(body(l), '198.51.100.1\n198.51.100.2\n198.51.100.3\n198.51.100.4\n198.51.100.5\n');
  // following: a new change is applied at the next interval
  store.push(indicator({ n: 6, pattern: "[ipv4-addr:value = '198.51.100.6']", tlp: 'clear' }));
  t.mock.timers.tick(1000);
  for (let i = 0; i < 10; i++) await flush();
  assert.equal(body(l), '198.51.100.1\n198.51.100.2\n198.51.100.3\n198.51.100.4\n198.51.100.5\n198.51.100.6\n');
  l.stop();
});

test('open: stop() while waiting to retry ends it without a build', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const store = new FlakyStore();
  store.failures = 10;
  const l = lists(store);
  const opened = l.open();
  for (let i = 0; i < 5; i++) await flush();
  l.stop();
  await opened;
  assert.deepEqual([l.ready, store.reads], [false, 1]);
});
