import type { Observable, TlpLevel } from '../core/stix.js';
import { detectObservable } from '../core/observable.js';
import { StixgateError } from '../core/errors.js';
import { canSee, DEFAULT_POLICY, visibleRecorded, type AccessPolicy } from '../access/policy.js';
import type { Store } from '../store/contract.js';
import { decodeContributions, type LedgerRow } from '../store/ledger.js';
import { recordKey } from './records.js';
import { entry } from '../core/indexed.js';

/** A sink's state for a value as one reader may see it (docs/deliveries.md). */
export interface DeliveryEntry {
  sink: string;
  /** The observable type the sink keys the value under. */
  type: string;
  /** `pending`: the store changed the value after the sink's cursor; `unknown`: no ledger row (sent before the ledger existed, or never considered). */
  state: 'present' | 'removed' | 'withheld' | 'rejected' | 'pending' | 'unknown';
  reason: string | null;
  /** When the value entered this state (RFC 3339), null for pending and unknown. */
  since: string | null;
  /** The change-log sequence of the state (0: a full re-send; for pending, the change not yet delivered). */
  seq: number | null;
  /** The contributions behind the state the reader may see, with their TLP. */
  sources: { source: string; tlp: string }[];
  /** The sink's view's score, shown only when the reader sees every contribution behind it. */
  score: number | null;
  /** The sink's `filters.min_score` when it was decided. */
  threshold: number | null;
  /** The filter, list entry or vendor message. */
  detail: string | null;
  /** For a pending value: the state the ledger recorded before the change. */
  previous?: Omit<DeliveryEntry, 'sink' | 'type' | 'previous'>;
}

export interface DeliveriesAnswer {
  value: string;
  /** The detected observable type (a hash is looked up as `file` and `x509-certificate`). */
  type?: string;
  /** Why the value could not be read (no entries then). */
  invalid?: string;
  deliveries: DeliveryEntry[];
}

export interface DeliveriesOptions {
  /** The configured sinks (every one gets an entry when the reader may see the value). */
  sinks: readonly string[];
  access?: AccessPolicy;
  /** A sink's committed cursor (src/delivery/runner.ts `sinkCursorName`). */
  cursor: (sink: string) => Promise<number>;
}

/** The observables a raw value is keyed under in sinks: its detected type; a hash also as a certificate fingerprint. */
export function ledgerObservables(
  raw: string,
): { primary: Observable; observables: Observable[] } | { invalid: string } {
  const d = detectObservable(raw);
  if (!d.ok) return { invalid: d.message };
  const o = d.observable;
  return { primary: o, observables: o.type === 'file' ? [o, { type: 'x509-certificate', value: o.value }] : [o] };
}

/**
 * The delivery ledger's answer for one value, as a reader with `ceiling` may see it: each recorded
 * row shows only the contributions at or below the ceiling (src/access `visibleRecorded`), and a
 * row none of whose contributions it may see is left out; pending and unknown entries appear only
 * when the reader sees some stored object holding the value.
 */
export async function deliveriesOf(
  store: Store,
  raw: string,
  ceiling: TlpLevel,
  o: DeliveriesOptions,
): Promise<DeliveriesAnswer> {
  if (!store.deliveries) {
    throw new StixgateError(
      'STIXGATE_ERR_STORE_UNAVAILABLE',
      `the ${store.kind} store keeps no delivery ledger (docs/deliveries.md)`,
      { reason: 'no_ledger' },
    );
  }
  const found = ledgerObservables(raw);
  if ('invalid' in found) return { value: raw, invalid: found.invalid, deliveries: [] };
  const { primary, observables } = found;
  const value = primary.value;
  const typeOf = new Map(observables.map((x) => [recordKey(x), x.type]));
  const reading = await store.deliveries([...typeOf.keys()], value);
  const access = o.access ?? DEFAULT_POLICY;
  const page = await store.query({ value, includeRevoked: true, limit: 100 });
  const valueVisible = page.objects.some((obj) => canSee(obj, ceiling, access));
  const out: DeliveryEntry[] = [];
  const sinks = [...new Set([...o.sinks, ...reading.rows.map((r) => r.sink)])].sort();
  for (const sink of sinks) {
    const rows = reading.rows.filter((r) => r.sink === sink);
    const cursor = o.sinks.includes(sink) ? await o.cursor(sink) : Number.MAX_SAFE_INTEGER;
    const pending = reading.valueSeq > cursor && rows.every((r) => r.seq < reading.valueSeq);
    const shown = rows.flatMap((r) => {
      const e = entryOf(r, ceiling);
      return e === undefined ? [] : [{ row: r, entry: e }];
    });
    if (pending) {
      if (!valueVisible) continue;
      const prev = shown.sort((a, b) => b.row.seq - a.row.seq).at(0);
      out.push({
        sink,
        type: prev ? entry(typeOf, prev.row.key) : primary.type,
        state: 'pending',
        reason: null,
        since: null,
        seq: reading.valueSeq,
        sources: [],
        score: null,
        threshold: null,
        detail: null,
        ...(prev ? { previous: prev.entry } : {}),
      });
      continue;
    }
    for (const s of shown) out.push({ sink, type: entry(typeOf, s.row.key), ...s.entry });
    if (rows.length === 0 && valueVisible) {
      out.push({
        sink,
        type: primary.type,
        state: 'unknown',
        reason: null,
        since: null,
        seq: null,
        sources: [],
        score: null,
        threshold: null,
        detail: null,
      });
    }
  }
  return { value, type: primary.type, deliveries: out };
}

/** A row as the reader sees it; undefined when it may see none of the row's contributions. */
function entryOf(r: LedgerRow, ceiling: TlpLevel): Omit<DeliveryEntry, 'sink' | 'type' | 'previous'> | undefined {
  const all = decodeContributions(r.contributions);
  const sources = visibleRecorded(all, ceiling);
  if (sources.length === 0) return undefined;
  return {
    state: r.state,
    reason: r.reason,
    since: new Date(r.since).toISOString(),
    seq: r.seq,
    sources,
    score: sources.length === all.length ? r.score : null,
    threshold: r.threshold,
    detail: r.detail ?? null,
  };
}
