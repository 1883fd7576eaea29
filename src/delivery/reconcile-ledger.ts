import type { StixObject } from '../core/stix.js';
import type { AccessPolicy } from '../access/policy.js';
import type { Store } from '../store/contract.js';
import type { LedgerUpdate } from '../store/ledger.js';
import { contributionsOf } from './ledger.js';
import { recordKey } from './records.js';
import type { CommonSinkConfig, RemoteEntry } from './types.js';
import { ledgerObservables } from './why.js';

/**
 * What a reconcile repair tells the delivery ledger (docs/deliveries.md, docs/reconcile.md): a
 * value written because the product lacked it or held it stale is `present` with reason
 * `reconcile` and the drift in the detail; an extra entry taken out is `removed` the same way; a
 * value the product refused stays `rejected` by the vendor. Written without a cursor (a repair is
 * not a change-log position), so the rows keep their sequence.
 */

export type RepairKind = 'missing' | 'stale' | 'extra';

const DETAIL: Record<RepairKind, string> = {
  missing: 'reconcile: missing (the product did not hold it)',
  stale: 'reconcile: stale (the product held other content)',
  extra: 'reconcile: extra (the product held it, the sink should not)',
};

/** The ledger update of a repaired upsert: acknowledged ones become reconcile repairs. */
export function repairUpdate(u: LedgerUpdate, kind: 'missing' | 'stale'): LedgerUpdate {
  if (u.state !== 'present') return u;
  return { ...u, reason: 'reconcile', detail: DETAIL[kind] };
}

export interface RemovalContext {
  store: Store;
  config: CommonSinkConfig;
  access?: AccessPolicy;
}

/** The record key of an entry's value: the entry's own, or the key a `why` of its value reads. */
function keyOf(e: RemoteEntry): string | undefined {
  if (e.recordKey) return e.recordKey;
  if (e.value === undefined) return undefined;
  const found = ledgerObservables(e.value);
  return 'invalid' in found ? undefined : recordKey(found.primary);
}

/**
 * The ledger updates of extra entries taken out: one per entry whose value is known, with the
 * contributions and score of the newest stored object holding the value (none when the store no
 * longer has it: the row is then shown to no reader, as any row without a visible contribution).
 */
export async function removalUpdates(entries: readonly RemoteEntry[], o: RemovalContext): Promise<LedgerUpdate[]> {
  const out: LedgerUpdate[] = [];
  for (const e of entries) {
    const key = keyOf(e);
    if (key === undefined) continue;
    const holder = e.value === undefined ? undefined : await newestHolder(o.store, e.value);
    out.push({
      key,
      state: 'removed',
      reason: 'reconcile',
      seq: 0,
      score: typeof holder?.x_stixgate?.score === 'number' ? holder.x_stixgate.score : null,
      threshold: o.config.filters.min_score,
      contributions: holder ? contributionsOf(holder, o.access) : '',
      detail: DETAIL.extra,
    });
  }
  return out;
}

async function newestHolder(store: Store, value: string): Promise<StixObject | undefined> {
  const page = await store.query({ value, includeRevoked: true, limit: 100 });
  let best: StixObject | undefined;
  for (const obj of page.objects) if (!best || String(obj.modified ?? '') > String(best.modified ?? '')) best = obj;
  return best;
}
