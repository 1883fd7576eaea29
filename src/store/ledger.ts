import { createHash } from 'node:crypto';
/**
 * The delivery ledger's types and codes (docs/deliveries.md, docs/adr/0019-delivery-ledger.md):
 * for every sink and every value, the state the sink was last told to hold, since when, the
 * change-log sequence of that state and why. Stores keep one compact row per (value, sink) with
 * small integer codes; strings (sink ids, contribution lists, filter and list entries, vendor
 * messages) are interned.
 */

/** The states a ledger row records (`pending` is computed at read time from the sink's cursor). */
export const LEDGER_STATES = ['present', 'removed', 'withheld', 'rejected'] as const;
export type LedgerState = (typeof LEDGER_STATES)[number];

/**
 * Why a value is in its state. `pushed`: sent and acknowledged; `revoked`, `expired`: removed
 * because the indicator ended; `tlp`, `score`, `filter`, `warninglist`, `allowlist`: withheld by the
 * sink's view of the store; `vendor`: the remote side refused it; `reconcile`: written or removed by
 * a reconcile repair (`stixgate reconcile`, docs/reconcile.md), the detail says which drift. New
 * reasons go at the end: stores keep the index as the reason's code.
 */
export const LEDGER_REASONS = [
  'pushed',
  'revoked',
  'expired',
  'tlp',
  'score',
  'filter',
  'warninglist',
  'allowlist',
  'vendor',
  'reconcile',
] as const;
export type LedgerReason = (typeof LEDGER_REASONS)[number];

/** Longest detail kept (a filter name, a list entry, a vendor message); longer ones are cut. */
export const MAX_LEDGER_DETAIL = 240;

/** One value's new state in one sink, from an acknowledged (or refused, or withheld) record. */
export interface LedgerUpdate {
  /** The record key: lower-case hex SHA-1 of `<observable type>:<canonical value>`. */
  key: string;
  state: LedgerState;
  reason: LedgerReason;
  /** The change-log sequence of the state (0: sent by a full re-send). */
  seq: number;
  /** The score of the sink's view (null: none). */
  score: number | null;
  /** The sink's `filters.min_score` when it was decided. */
  threshold: number;
  /** The contributions behind the state: `source=tlp` joined by `,`, sorted. */
  contributions: string;
  /** The filter, the list and entry, or the vendor's message. */
  detail?: string;
  /** Recorded only where the sink does not hold the value (a skip never takes a value out). */
  soft?: boolean;
}

/** A stored ledger row, as read back. */
export interface LedgerRow extends LedgerUpdate {
  sink: string;
  /** When the value entered this state (epoch ms, second precision). */
  since: number;
}

/** What a store knows of one value for the ledger: its rows, and the last change of any object holding it. */
export interface LedgerReading {
  rows: LedgerRow[];
  /** The largest change-log sequence of a stored object that lists the value (0: none). */
  valueSeq: number;
}

/** The contributions string of a list of (source, TLP) pairs: `a=clear,b=amber`, sorted by source. */
export function encodeContributions(list: readonly { source: string; tlp: string }[]): string {
  return list
    .map((c) => `${c.source}=${c.tlp}`)
    .sort()
    .join(',');
}

export function decodeContributions(text: string): { source: string; tlp: string }[] {
  if (!text) return [];
  return text.split(',').map((p) => {
    const i = p.lastIndexOf('=');
    return { source: p.slice(0, i), tlp: p.slice(i + 1) };
  });
}

/** The first 8 bytes of a record key as a signed 64-bit integer (the ledger's value key). */
/** The record key of an observable: lower-case hex SHA-1 of `<observable type>:<canonical value>`. */
export function ledgerRecordKey(type: string, value: string): string {
  return createHash('sha1').update(`${type}:${value}`).digest('hex');
}

export function ledgerValueKey(key: string): bigint {
  return BigInt.asIntN(64, BigInt(`0x${key.slice(0, 16)}`));
}

export function cutDetail(s: string | undefined): string | undefined {
  if (s === undefined || s === '') return undefined;
  return s.length > MAX_LEDGER_DETAIL ? `${s.slice(0, MAX_LEDGER_DETAIL - 1)}…` : s;
}
