import type { Change } from '../store/contract.js';
import type { Observable, StixObject } from '../core/stix.js';
import { DEFAULT_POLICY, everVisible, type AccessPolicy } from '../access/policy.js';
import { removalStub, viewWithTlp } from '../access/view.js';
import type { CommonSinkConfig, SinkRecord } from './types.js';
import { factsOf, recordKey, recordsFor, type ObjectFacts } from './records.js';
import { contributionsOf, publishReason, skippedUpdate, type WithholdingHit } from './ledger.js';
import type { LedgerUpdate } from '../store/ledger.js';
import { indicatorObservables } from '../core/object-observables.js';
import { scoreExtension } from '../score/model.js';

/** Decides, per value, whether a sink may publish it (warninglists, publish allowlist); `hits` name the entries. */
export type PublishCheck = (
  o: Observable,
  sources: readonly string[],
) => { publish: boolean; lists: string[]; hits?: readonly WithholdingHit[] };

/** A skip the delivery ledger records: a static filter, or a TLP ceiling that never admitted the object. */
export type SkipReason = { reason: 'filter'; detail: string } | { reason: 'tlp'; detail?: undefined };

/** What `decide` reads of a sink's configuration: its TLP ceiling and filters (firewall lists have the same). */
export type ViewFilter = Pick<CommonSinkConfig, 'max_tlp' | 'filters'>;

export type Decision =
  | { action: 'skip'; why?: SkipReason }
  | { action: 'remove'; reason: string; object: StixObject; facts: ObjectFacts }
  | { action: 'upsert'; object: StixObject; facts: ObjectFacts };

/**
 * What a sink should do with one object state, judged on the view its `max_tlp` gives
 * (src/access): only the contributions at or below it, their labels, sources and score.
 *  - `skip`: no contribution at or below `max_tlp` was ever there, or the indicator was expired on
 *    arrival and never active (the sink never hears of the value, not even as a removal), or static filters (observable types are applied per record,
 *    labels, sources) say the object is not for this sink;
 *  - `remove` with a reason: revoked, expired, every visible contribution re-marked above the
 *    maximum (`tlp`; contributions only tighten), score below the minimum (scores decay);
 *  - `upsert`.
 * The records are built from `object`: the view, or for a `tlp` removal its identity only. Pure.
 */
export function decide(
  obj: StixObject,
  op: Change['op'],
  f: ViewFilter,
  now: number,
  access: AccessPolicy = DEFAULT_POLICY,
): Decision {
  if (obj.type !== 'indicator') return { action: 'skip' };
  // expired on arrival and never active since: no sink ever held it, so there is nothing to remove
  if (scoreExtension(obj)?.never_active === true) return { action: 'skip' };
  const seen = viewWithTlp(obj, f.max_tlp, access);
  if (!seen) {
    if (!everVisible(obj, f.max_tlp, access)) return { action: 'skip', why: { reason: 'tlp' } };
    const stub = removalStub(obj);
    return { action: 'remove', reason: 'tlp', object: stub, facts: factsOf(stub, f.max_tlp) };
  }
  const { view, tlp } = seen;
  const facts = factsOf(view, tlp);
  const d = decideView(view, op, f, now, facts);
  return d.action === 'skip' ? d : { ...d, object: view, facts };
}

function decideView(
  obj: StixObject,
  op: Change['op'],
  f: ViewFilter,
  now: number,
  facts: ObjectFacts,
): { action: 'skip'; why: SkipReason } | { action: 'remove'; reason: string } | { action: 'upsert' } {
  const labels = facts.labels;
  if (f.filters.labels.length && !labels.some((l) => f.filters.labels.includes(l)))
    return { action: 'skip', why: { reason: 'filter', detail: 'filters.labels' } };
  const excluded = f.filters.exclude_labels.find((l) => labels.includes(l));
  if (excluded !== undefined)
    return { action: 'skip', why: { reason: 'filter', detail: `filters.exclude_labels: ${excluded}` } };
  if (f.filters.sources.length && !facts.sources.some((s) => f.filters.sources.includes(s)))
    return { action: 'skip', why: { reason: 'filter', detail: 'filters.sources' } };
  if (op === 'revoke' || obj.revoked === true) return { action: 'remove', reason: 'revoked' };
  if (op === 'expire' || obj.x_stixgate?.expired === true) return { action: 'remove', reason: 'expired' };
  if (typeof obj.valid_until === 'string' && Date.parse(obj.valid_until) <= now)
    return { action: 'remove', reason: 'expired' };
  if (f.filters.min_score > 0 && (facts.score === null || facts.score < f.filters.min_score))
    return { action: 'remove', reason: 'score' };
  return { action: 'upsert' };
}

/**
 * Records for a page of changes: one per observable value, collapsed so that each key appears once
 * with its latest state (a later change supersedes an earlier one in the same page), in seq order.
 * With `skipped`, the values the sink never receives (static filters, a TLP ceiling that never
 * admitted the object) are added there as ledger updates, unless a later record of the page has the key.
 */
export function recordsForChanges(
  changes: readonly Change[],
  f: CommonSinkConfig,
  mapping: Record<string, string>,
  now: number,
  publish?: PublishCheck,
  onWithheld?: (lists: string[]) => void,
  access: AccessPolicy = DEFAULT_POLICY,
  skipped?: Map<string, LedgerUpdate>,
): SinkRecord[] {
  const byKey = new Map<string, SinkRecord>();
  const threshold = f.filters.min_score;
  for (const c of changes) {
    if (c.object.type !== 'indicator') continue;
    const d = decide(c.object, c.op, f, now, access);
    if (d.action === 'skip') {
      if (skipped && d.why) skip(skipped, c, d.why, threshold, access, f);
      continue;
    }
    const contributions = skipped ? contributionsOf(c.object, access) : undefined;
    for (const r of recordsFor(
      d.object,
      c.seq,
      d.action,
      d.action === 'remove' ? d.reason : undefined,
      mapping,
      d.facts,
    )) {
      if (f.filters.types.length && !f.filters.types.includes(r.observable.type)) {
        if (skipped && contributions !== undefined)
          skipped.set(r.key, skippedUpdate(r.key, c.seq, 'filter', 'filters.types', r.score, threshold, contributions));
        continue;
      }
      let rec = contributions === undefined ? r : { ...r, contributions };
      if (rec.op === 'upsert' && publish) {
        const p = publish(rec.observable, rec.sources);
        if (!p.publish) {
          onWithheld?.(p.lists);
          rec = { ...rec, op: 'remove', reason: 'warninglist', withheld: publishReason(p.lists, p.hits) };
        }
      }
      skipped?.delete(rec.key);
      byKey.delete(rec.key); // re-insert so that Map order follows the latest seq
      byKey.set(rec.key, rec);
    }
  }
  return [...byKey.values()];
}

/** The ledger updates of an object state the sink skips: one per value of its pattern. */
function skip(
  out: Map<string, LedgerUpdate>,
  c: Change,
  why: SkipReason,
  threshold: number,
  access: AccessPolicy,
  f: CommonSinkConfig,
): void {
  const contributions = contributionsOf(c.object, access);
  const score = typeof c.object.x_stixgate?.score === 'number' ? c.object.x_stixgate.score : null;
  for (const o of indicatorObservables(c.object)) {
    if (f.filters.types.length && !f.filters.types.includes(o.type)) continue;
    const key = recordKey(o);
    out.delete(key);
    out.set(key, skippedUpdate(key, c.seq, why.reason, why.detail, score, threshold, contributions));
  }
}

/** Consecutive runs of one op, cut at `maxBatch` records and (when sized) `maxBytes`. */
export function batchesOf(
  records: readonly SinkRecord[],
  maxBatch: number,
  maxBytes?: number,
  sizeOf?: (r: SinkRecord) => number,
): SinkRecord[][] {
  const out: SinkRecord[][] = [];
  let cur: SinkRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = maxBytes && sizeOf ? sizeOf(r) : 0;
    if (cur[0] && (cur[0].op !== r.op || cur.length >= maxBatch || (maxBytes && bytes + size > maxBytes))) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(r);
    bytes += size;
  }
  if (cur.length) out.push(cur);
  return out;
}
