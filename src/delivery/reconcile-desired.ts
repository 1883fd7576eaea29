import type { StixObject, TlpLevel } from '../core/stix.js';
import type { Store } from '../store/contract.js';
import type { AccessPolicy } from '../access/policy.js';
import { recordsForChanges, type PublishCheck } from './select.js';
import type { CommonSinkConfig, SinkReconciler, SinkRecord } from './types.js';
import type { SortedSpill } from './reconcile-spill.js';
import { contributionsOf } from './ledger.js';

/**
 * The sink's view of the store, as reconcile compares it with the product: for every active
 * indicator, the records the push path would send as upserts (the same builder, `recordsForChanges`:
 * TLP ceiling, filters, score threshold, expiry, warninglists and publish allowlist), each turned
 * into the entry the sink would leave (`SinkReconciler.expected`).
 */

/** One expected entry, spilled while sorting (short keys: a million of them go through disk). */
export interface DesiredEntry {
  /** key */
  k: string;
  /** digest */
  d: string;
  /** the indicator's id, to rebuild the record when it is written */
  id: string;
  /** the indicator's `modified`: among several indicators holding a value, the newest is written */
  m: string;
  /** label */
  l: string;
  /** the TLP of the sink's view of the indicator */
  t: TlpLevel;
}

export interface DesiredOptions {
  store: Store;
  config: CommonSinkConfig;
  mapping: Record<string, string>;
  now: () => number;
  publish?: PublishCheck;
  access?: AccessPolicy;
  signal: AbortSignal;
}

/**
 * The upsert records the push path would build for one stored object. Each object is judged on
 * its own (no collapsing across objects), so a value two indicators hold stays expected while one
 * of them is eligible.
 */
export function upsertRecordsOf(obj: StixObject, o: DesiredOptions): SinkRecord[] {
  const change = { seq: 0, id: obj.id, type: obj.type, op: 'upsert' as const, object: obj };
  return recordsForChanges([change], o.config, o.mapping, o.now(), o.publish, undefined, o.access).filter(
    (r) => r.op === 'upsert',
  );
}

/** Scans the store's indicators page by page into `out`; returns the number of objects read. */
export async function spillDesired(
  o: DesiredOptions,
  reconciler: SinkReconciler,
  out: SortedSpill<DesiredEntry>,
): Promise<number> {
  let after: string | undefined;
  let objects = 0;
  do {
    if (o.signal.aborted) break;
    const page = await o.store.query({ type: 'indicator', limit: 1000, after });
    after = page.next;
    for (const obj of page.objects) {
      objects++;
      for (const r of upsertRecordsOf(obj, o)) {
        const e = reconciler.expected(r);
        if (e) await out.add({ k: e.key, d: e.digest, id: obj.id, m: obj.modified ?? '', l: e.label, t: r.tlp });
      }
    }
  } while (after);
  return objects;
}

/**
 * The records to write for entries chosen by reconcile, rebuilt from the store as it is now. An
 * object that changed meanwhile so that the push path would no longer send the value is left out
 * (its change is in the change log, the next push handles it).
 */
export async function rebuildRecords(
  want: { id: string; key: string }[],
  o: DesiredOptions,
  reconciler: SinkReconciler,
): Promise<{ records: SinkRecord[]; gone: number }> {
  const objects = await o.store.getMany([...new Set(want.map((w) => w.id))]);
  const records: SinkRecord[] = [];
  let gone = 0;
  for (const w of want) {
    const obj = objects.get(w.id);
    const rec = obj && upsertRecordsOf(obj, o).find((r) => reconciler.expected(r)?.key === w.key);
    // the contributions go to the delivery ledger with the repair (src/delivery/reconcile-ledger.ts)
    if (rec) records.push({ ...rec, contributions: contributionsOf(obj, o.access) });
    else gone++;
  }
  return { records, gone };
}
