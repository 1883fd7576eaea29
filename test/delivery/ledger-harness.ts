import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/store/contract.js';
import { runSink, sinkCursorName, type SinkRunOptions } from '../../src/delivery/runner.js';
import { checkSinkMapping } from '../../src/delivery/records.js';
import { deliveriesOf, type DeliveryEntry } from '../../src/delivery/why.js';
import type {
  CommonSinkConfig,
  RemoteEntry,
  Sink,
  SinkOutcome,
  SinkReconciler,
  SinkRecord,
} from '../../src/delivery/types.js';
import { recordKey } from '../../src/delivery/records.js';
import { reconcileSink } from '../../src/delivery/reconcile.js';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { detectObservable } from '../../src/core/observable.js';
import type { StixObject, TlpLevel } from '../../src/core/stix.js';
import { must } from '../helpers/must.js';
import { offlinePush } from '../helpers/offline-run.js';
import { commonConfig } from '../helpers/sink-kit.js';

/**
 * The delivery ledger's behaviour (docs/deliveries.md), run unchanged against every store that
 * keeps one (test/delivery/ledger.test.ts: embedded; test/integration/opensearch-ledger.itest.ts):
 * through the real sink runner, every state and reason a value can have in a sink, what a reader
 * with a lower TLP ceiling sees of it, pending changes, and the same answers after the store is
 * reopened.
 */

/** A store to run the cases on: opened fresh, reopened on the same data, and removed. */
export interface LedgerRig {
  open(): Promise<Store>;
  reopen(store: Store): Promise<Store>;
  cleanup(store: Store): Promise<void>;
}

export const NOW = Date.parse('2026-03-01T12:00:00Z');
export const iso = (ms: number) => new Date(ms).toISOString();

export function config(
  over: Partial<CommonSinkConfig> = {},
  filters: Partial<CommonSinkConfig['filters']> = {},
): CommonSinkConfig {
  return commonConfig('fake', {
    timeout_secs: 5,
    filters: { types: [], min_score: 0, labels: [], exclude_labels: [], sources: [], ...filters },
    retry: { max_attempts: 2, base_delay_secs: 0.001, max_delay_secs: 0.001 },
    ...over,
  });
}

export function ind(value: string, extra: Partial<StixObject> = {}): StixObject {
  const r = detectObservable(value);
  if (!r.ok) throw new Error(value);
  return { ...indicatorFromObservable(r.observable, { now: iso(NOW - 1000) }), ...extra };
}

/**
 * A remote side in memory that refuses the values in `refuse` with a vendor message. Its reconciler
 * reads `held`; a value in `stale` is held with other content.
 */
class RefusingSink implements Sink {
  limits = { maxBatch: 50, concurrency: 2 };
  held = new Set<string>();
  stale = new Set<string>();
  refuse = new Map<string, string>();
  reconciler: SinkReconciler = {
    describe: () => 'memory',
    read: async function* (this: void, _ctx, _schedule) {},
    expected: (r) => ({ key: r.key, digest: 'current', label: r.observable.value }),
    removeExtra: async (entries) => {
      for (const e of entries) this.held.delete(e.ref as string);
    },
  };
  constructor() {
    const held = () =>
      [...this.held].map((value): RemoteEntry => {
        const o = detectObservable(value);
        if (!o.ok) throw new Error(value);
        const digest = this.stale.has(value) ? 'old' : 'current';
        return { key: recordKey(o.observable), digest, ref: value, label: value, value };
      });
    this.reconciler.read = async function* () {
      yield held();
    };
  }
  private answer(op: 'upsert' | 'remove', records: SinkRecord[]): SinkOutcome[] {
    return records.map((r): SinkOutcome => {
      const why = this.refuse.get(r.observable.value);
      if (why) return { status: 'reject', reason: why };
      this.stale.delete(r.observable.value);
      if (op === 'upsert') this.held.add(r.observable.value);
      else this.held.delete(r.observable.value);
      return { status: 'ok' };
    });
  }
  async upsert(records: SinkRecord[]) {
    return this.answer('upsert', records);
  }
  async remove(records: SinkRecord[]) {
    return this.answer('remove', records);
  }
}

export async function ledgerHarness(t: { after: (fn: () => Promise<void> | void) => void }, rig: LedgerRig) {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-ledger-'));
  let store: Store = await rig.open();
  t.after(async () => {
    await rig.cleanup(store);
    rmSync(dir, { recursive: true, force: true });
  });
  const sink = new RefusingSink();
  const mapping = checkSinkMapping({ fields: { value: 'value' } }, 'test').fields;
  const options = (): SinkRunOptions =>
    offlinePush({
      id: 'siem',
      sink,
      config: config(),
      store,
      mapping,
      deadLetter: join(dir, 'dead-letter', 'siem.jsonl'),
      concurrency: 2,
      now: () => NOW,
    });
  const run = (over: Partial<SinkRunOptions> = {}) => runSink({ ...options(), ...over });
  const put = (objects: StixObject[], source: string, tlp: TlpLevel, now = NOW) =>
    store.upsert(
      objects.map((object) => ({ object, source, confidence: 80, tlp })),
      { now },
    );
  const why = async (value: string, ceiling: TlpLevel = 'red', sinks = ['siem']) =>
    deliveriesOf(store, value, ceiling, {
      sinks,
      cursor: async (s) => Number((await store.getCursor(sinkCursorName(s))) ?? 0),
    });
  const one = async (value: string, ceiling: TlpLevel = 'red'): Promise<DeliveryEntry> => {
    const a = await why(value, ceiling);
    assert.equal(a.deliveries.length, 1, `${value}: ${JSON.stringify(a.deliveries)}`);
    return must(a.deliveries[0], 'a.deliveries[0]');
  };
  const reconcile = (over: Partial<SinkRunOptions> = {}) =>
    reconcileSink({ ...options(), ...over, apply: true, tmpDir: dir });
  const reopen = async () => {
    store = await rig.reopen(store);
  };
  return { store: () => store, sink, run, reconcile, put, why, one, reopen };
}
