import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Store } from '../../src/store/contract.js';
import { runSink, sinkCursorName } from '../../src/delivery/runner.js';
import { checkSinkMapping, recordKey } from '../../src/delivery/records.js';
import { detectObservable } from '../../src/core/observable.js';
import type { StixObject } from '../../src/core/stix.js';
import { applyRetention } from '../../src/daemon-retention.js';
import { DEFAULT_RETENTION, RETENTION_CURSOR } from '../../src/store/retention.js';
import { FakeSink, NOW, config, ind, iso } from '../delivery/sink-run-kit.js';
import { must } from '../helpers/must.js';
import { offlinePush } from '../helpers/offline-run.js';

/**
 * Retention (docs/adr/0029-index-lifecycle.md), run unchanged on every store that implements
 * `purge` (test/store/retention.test.ts: embedded, direct and threaded;
 * test/integration/opensearch-retention.itest.ts). Every time is injected: nothing sleeps.
 */
export interface RetentionRig {
  open(): Promise<Store>;
  cleanup(store: Store): Promise<void>;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CFG = { ...DEFAULT_RETENTION, expired_after_days: 30, revoked_after_days: 30 };

function keyOf(value: string): string {
  const o = detectObservable(value);
  if (!o.ok) throw new Error(value);
  return recordKey(o.observable);
}

async function bench(t: { after: (fn: () => Promise<void> | void) => void }, rig: RetentionRig) {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-retention-'));
  const store = await rig.open();
  t.after(async () => {
    await rig.cleanup(store);
    rmSync(dir, { recursive: true, force: true });
  });
  const mapping = checkSinkMapping({ fields: { value: 'value' } }, 'test').fields;
  const sinks = new Map<string, FakeSink>();
  /** One run of sink `id` (a FakeSink in memory) at `now`. */
  const run = (id: string, now = NOW) => {
    let sink = sinks.get(id);
    if (!sink) {
      sink = new FakeSink();
      sinks.set(id, sink);
    }
    return runSink(
      offlinePush({
        id,
        sink,
        config: config(),
        store,
        mapping,
        deadLetter: join(dir, 'dead-letter', `${id}.jsonl`),
        now: () => now,
      }),
    );
  };
  const put = (objects: StixObject[], now: number) =>
    store.upsert(
      objects.map((object) => ({ object, source: 'feed', confidence: 80, tlp: 'clear' as const })),
      { now },
    );
  const held = (id: string) => [...must(sinks.get(id), `sink ${id}`).held.keys()].sort();
  return { store, run, put, held };
}

export function runRetentionCases(name: string, rig: RetentionRig): void {
  test(`${name}: expired and revoked objects go after the period and not before, only once every sink has removed them`, async (t) => {
    const b = await bench(t, rig);
    const expiring = ind('198.51.100.1', { valid_until: iso(NOW + DAY) });
    const revoking = ind('198.51.100.2');
    const staying = ind('198.51.100.3');
    await b.put([expiring, revoking, staying], NOW);
    await b.run('siem');
    await b.run('slow');
    assert.deepEqual(b.held('slow'), ['198.51.100.1', '198.51.100.2', '198.51.100.3']);
    // revoked two hours later (its last delivery; last_seen moves by more than the 1 h granularity only),
    // expired at its valid_until
    await b.put([{ ...revoking, revoked: true, modified: iso(NOW + 2 * HOUR) }], NOW + 2 * HOUR);
    assert.equal(await b.store.expire(NOW + 2 * DAY), 1);
    await b.run('siem', NOW + 2 * DAY);
    assert.deepEqual(b.held('siem'), ['198.51.100.3']);
    const sinks = { siem: { enabled: true }, slow: { enabled: true }, off: { enabled: false } };

    // the periods: revoked 30 days after its last delivery, expired 30 days after its valid_until
    const revokedDue = NOW + 2 * HOUR + 30 * DAY;
    const expiredDue = NOW + DAY + 30 * DAY;
    const early = await applyRetention(b.store, CFG, { siem: { enabled: true } }, revokedDue - 1);
    assert.deepEqual([early.expired, early.revoked], [0, 0], 'not before the period');
    assert.ok(await b.store.get(revoking.id));

    // `slow` has not run since: its cursor holds both back, though both are due
    const held = await applyRetention(b.store, CFG, sinks, expiredDue + DAY);
    assert.deepEqual([held.expired, held.revoked, held.sink], [0, 0, 'slow']);
    assert.ok(held.head > held.floor);
    assert.ok(await b.store.get(expiring.id), 'still there for the sink behind');

    // the sink behind still removes both values, then both go
    await b.run('slow', expiredDue + DAY);
    assert.deepEqual(b.held('slow'), ['198.51.100.3']);
    const onlyRevoked = await applyRetention(b.store, CFG, sinks, expiredDue - 1);
    assert.deepEqual([onlyRevoked.expired, onlyRevoked.revoked], [0, 1], 'the revoked one is due first');
    const both = await applyRetention(b.store, CFG, sinks, expiredDue);
    assert.deepEqual([both.expired, both.revoked], [1, 0]);
    assert.equal(await b.store.get(expiring.id), undefined);
    assert.equal(await b.store.get(revoking.id), undefined);
    assert.ok(await b.store.get(staying.id), 'active objects stay');
    for (const value of ['198.51.100.1', '198.51.100.2']) {
      const page = await b.store.query({ type: 'indicator', value, includeRevoked: true });
      assert.deepEqual(page.objects, [], `nothing answers ${value} any more`);
      // the ledger rows (removed, in both sinks) went with the last object listing the value
      const rows = await must(b.store.deliveries, 'deliveries').call(b.store, [keyOf(value)], value);
      assert.deepEqual(rows.rows, []);
    }
    const kept = await must(b.store.deliveries, 'deliveries').call(b.store, [keyOf('198.51.100.3')], '198.51.100.3');
    assert.deepEqual(kept.rows.map((r) => [r.sink, r.state]).sort(), [
      ['siem', 'present'],
      ['slow', 'present'],
    ]);
    assert.ok(Number(await b.store.getCursor(RETENTION_CURSOR)) >= both.purgedThrough);
    assert.ok(both.purgedThrough > 0);

    // the change log never goes back: a later change is numbered above every deleted one
    const head = await b.store.head();
    await b.put([ind('198.51.100.4')], expiredDue);
    assert.ok((await b.store.head()) > head);
    await b.run('siem', expiredDue);
    assert.deepEqual(b.held('siem'), ['198.51.100.3', '198.51.100.4']);
  });

  test(`${name}: an enabled sink that never committed holds everything back; a disabled one without a cursor does not count`, async (t) => {
    const b = await bench(t, rig);
    const gone = ind('203.0.113.9', { valid_until: iso(NOW + HOUR) });
    await b.put([gone], NOW);
    assert.equal(await b.store.expire(NOW + DAY), 1);
    const later = NOW + 60 * DAY;
    const blocked = await applyRetention(b.store, CFG, { fresh: { enabled: true } }, later);
    assert.deepEqual([blocked.expired, blocked.floor, blocked.sink], [0, 0, 'fresh']);
    assert.equal(await b.store.getCursor(sinkCursorName('fresh')), undefined);
    const off = { ...CFG, expired_after_days: 0 };
    assert.equal((await applyRetention(b.store, off, {}, later)).expired, 0, 'expired_after_days: 0 keeps them');
    const free = await applyRetention(b.store, CFG, { never: { enabled: false } }, later);
    assert.deepEqual([free.expired, free.sink], [1, undefined]);
    assert.equal(await b.store.get(gone.id), undefined);
  });

  test(`${name}: a value another object still lists keeps its ledger rows; a re-delivered object comes back as new`, async (t) => {
    const b = await bench(t, rig);
    const old = ind('192.0.2.44', { valid_until: iso(NOW + HOUR) });
    const other = { ...ind('192.0.2.44'), id: 'indicator--6d6f6b3e-7a4b-5b9c-9a57-1f7c2c4f0a11' };
    await b.put([old, other], NOW);
    await b.run('siem');
    assert.equal(await b.store.expire(NOW + DAY), 1);
    await b.run('siem', NOW + DAY);
    const r = await applyRetention(b.store, CFG, { siem: { enabled: true } }, NOW + 40 * DAY);
    assert.deepEqual([r.expired, r.ledgerRows], [1, 0]);
    const rows = await must(b.store.deliveries, 'deliveries').call(b.store, [keyOf('192.0.2.44')], '192.0.2.44');
    assert.equal(rows.rows.length, 1, 'the other indicator still holds the value in the sink');
    // the feed delivers the deleted indicator again: stored as a new object, pushed again
    await b.put([{ ...old, valid_until: iso(NOW + 50 * DAY) }], NOW + 40 * DAY);
    assert.ok(await b.store.get(old.id));
  });
}
