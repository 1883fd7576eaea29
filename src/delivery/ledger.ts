import type { StixObject } from '../core/stix.js';
import { DEFAULT_POLICY, type AccessPolicy } from '../access/policy.js';
import { visibleContributions } from '../access/view.js';
import { cutDetail, encodeContributions, type LedgerReason, type LedgerUpdate } from '../store/ledger.js';
import type { SinkOutcome, SinkRecord } from './types.js';

/**
 * What the sink runner tells the delivery ledger (src/store/ledger.ts, docs/deliveries.md). The
 * runner collects one update per record whose fate is settled (acknowledged, refused, withheld)
 * and hands them to the store with the cursor that covers them, in one transaction.
 */

/** Every contribution of the stored object (not the sink's view), `source=tlp` sorted; readers see their share of it. */
export function contributionsOf(obj: StixObject, access: AccessPolicy = DEFAULT_POLICY): string {
  return encodeContributions(visibleContributions(obj, 'red', access));
}

/** The publish filter's hits that withheld a value (src/filter/policy.ts), for the ledger's reason and detail. */
export interface WithholdingHit {
  list: string;
  entry?: string;
  source?: 'warninglist' | 'allowlist';
  private_suffix?: string;
}

/** `allowlist` when an allowlist entry withheld it, else `warninglist`; the detail names the lists and entries. */
export function publishReason(
  lists: readonly string[],
  hits: readonly WithholdingHit[] | undefined,
): { reason: 'warninglist' | 'allowlist'; detail: string } {
  const withholding = (hits ?? []).filter((h) => h.private_suffix === undefined);
  const allow = withholding.filter((h) => h.source === 'allowlist');
  const shown = allow.length ? allow : withholding;
  const detail = shown.length
    ? shown.map((h) => (h.entry !== undefined ? `${h.list}: ${h.entry}` : h.list)).join('; ')
    : lists.join('; ');
  return { reason: allow.length ? 'allowlist' : 'warninglist', detail };
}

const REMOVAL_REASONS: Record<string, LedgerReason> = {
  revoked: 'revoked',
  expired: 'expired',
  tlp: 'tlp',
  score: 'score',
  warninglist: 'warninglist',
  filtered: 'filter',
};

/**
 * The ledger update of a record the remote side answered: `ok` upserts are present; `ok`
 * removals are removed (revoked, expired) or withheld (the sink's view no longer admits the
 * value: TLP, score, lists); refusals are rejected with the vendor's message. Retries settle nothing.
 */
export function ledgerUpdate(r: SinkRecord, out: SinkOutcome, threshold: number): LedgerUpdate | undefined {
  if (out.status === 'retry') return undefined;
  const base = { key: r.key, seq: r.seq, score: r.score, threshold, contributions: r.contributions ?? '' };
  if (out.status === 'reject')
    return { ...base, state: 'rejected', reason: 'vendor', detail: cutDetail(out.reason) ?? 'rejected' };
  if (r.op === 'upsert') return { ...base, state: 'present', reason: 'pushed' };
  const reason = r.withheld?.reason ?? REMOVAL_REASONS[r.reason ?? ''] ?? 'expired';
  const detail = cutDetail(r.withheld?.detail);
  return {
    ...base,
    state: reason === 'revoked' || reason === 'expired' ? 'removed' : 'withheld',
    reason,
    ...(detail ? { detail } : {}),
  };
}

/** A value the sink never receives (static filter, or never visible under its TLP ceiling): withheld, recorded only where the sink does not hold it. */
export function skippedUpdate(
  key: string,
  seq: number,
  reason: 'filter' | 'tlp',
  detail: string | undefined,
  score: number | null,
  threshold: number,
  contributions: string,
): LedgerUpdate {
  const d = cutDetail(detail);
  return {
    key,
    seq,
    state: 'withheld',
    reason,
    score,
    threshold,
    contributions,
    soft: true,
    ...(d ? { detail: d } : {}),
  };
}
