/**
 * Sightings (docs/scoring.md §4): a SIEM reports that it saw an indicator. Each report becomes a
 * STIX `sighting` SRO (deterministic id over indicator, reporter and window) with an `identity`
 * for the reporter, and the indicator's `x_stixgate.sightings` summary grows by the count the
 * SRO did not already hold, so that a repeated report (a retry) adds nothing. The summary raises
 * the score and refreshes its age.
 */
import { StixgateError } from '../core/errors.js';
import { entry } from '../core/indexed.js';
import { STIXGATE_NAMESPACE, uuidv5 } from '../core/ids.js';
import { stixTime, type StixObject, type TlpLevel } from '../core/stix.js';
import type { Store } from './contract.js';
import type { Scoring, SightingSummary } from '../score/model.js';
import { recompute } from './rescore.js';

/** STIX 2.1 §5.5: `count` is 0 to 999,999,999. */
export const MAX_SIGHTING_COUNT = 999_999_999;
/** The provenance source of the stored sighting and identity objects. */
export const SIGHTINGS_SOURCE = 'api:sightings';

export interface SightingReport {
  indicatorId: string;
  count: number;
  /** Epoch ms. */
  firstSeen: number;
  lastSeen: number;
  /** Who saw it (a SIEM or sensor name); becomes an `identity`. */
  where: string;
  observedDataRefs?: string[];
}

export function identityId(where: string): string {
  return `identity--${uuidv5(STIXGATE_NAMESPACE, `sighting-reporter\u0000${where}`)}`;
}

export function sightingId(r: Pick<SightingReport, 'indicatorId' | 'where' | 'firstSeen' | 'lastSeen'>): string {
  return `sighting--${uuidv5(STIXGATE_NAMESPACE, `sighting\u0000${r.indicatorId}\u0000${r.where}\u0000${stixTime(r.firstSeen)}\u0000${stixTime(r.lastSeen)}`)}`;
}

export function identityFor(where: string, now: number): StixObject {
  const ts = stixTime(now);
  return {
    type: 'identity',
    spec_version: '2.1',
    id: identityId(where),
    created: ts,
    modified: ts,
    name: where,
    identity_class: 'system',
  };
}

export function sightingFor(r: SightingReport, now: number): StixObject {
  const ts = stixTime(now);
  const o: StixObject = {
    type: 'sighting',
    spec_version: '2.1',
    id: sightingId(r),
    created: ts,
    modified: ts,
    sighting_of_ref: r.indicatorId,
    count: r.count,
    first_seen: stixTime(r.firstSeen),
    last_seen: stixTime(r.lastSeen),
    where_sighted_refs: [identityId(r.where)],
  };
  if (r.observedDataRefs && r.observedDataRefs.length > 0) o.observed_data_refs = [...r.observedDataRefs];
  return o;
}

export interface SightingDelta {
  count: number;
  firstSeen: number;
  lastSeen: number;
}

/** Widens a summary by a delta (count never below 0, window only widens). */
export function addToSummary(s: SightingSummary | undefined, d: SightingDelta): SightingSummary {
  const first = s ? Math.min(Date.parse(s.first_seen) || d.firstSeen, d.firstSeen) : d.firstSeen;
  const last = s ? Math.max(Date.parse(s.last_seen) || d.lastSeen, d.lastSeen) : d.lastSeen;
  return {
    count: Math.max(0, Math.min(Number.MAX_SAFE_INTEGER, (s?.count ?? 0) + d.count)),
    first_seen: stixTime(first),
    last_seen: stixTime(last),
  };
}

/**
 * The indicator with the delta added to its sightings summary and its score recomputed at `now`
 * (an expired indicator whose score is back above the threshold becomes active again). Undefined
 * for revoked objects and non-indicators.
 */
export function withSightings(obj: StixObject, d: SightingDelta, sc: Scoring, now: number): StixObject | undefined {
  if (obj.type !== 'indicator' || obj.revoked === true) return undefined;
  const old = obj.x_stixgate?.sightings;
  const summary = addToSummary(old, d);
  if (
    old &&
    summary.count === old.count &&
    summary.first_seen === old.first_seen &&
    summary.last_seen === old.last_seen
  )
    return undefined;
  return recompute(obj, sc, now, (ext) => {
    ext.sightings = summary;
  }).next;
}

export interface RecordedSighting {
  id: string;
  indicator_id: string;
  /** What the indicator's count grew by (0 for a repeated report). */
  added: number;
}

export interface RecordResult {
  recorded: RecordedSighting[];
  /** Indicators whose summary was written. */
  indicatorsUpdated: number;
}

/**
 * Stores the SROs (and reporter identities) and updates the indicators' summaries. A report whose
 * SRO already exists adds only the difference of the counts. Not atomic across the two writes:
 * after a crash between them, a retried report finds its SRO and adds nothing (at most one report
 * is under-counted, never double-counted).
 */
export async function recordSightings(
  store: Store,
  sc: Scoring,
  reports: readonly SightingReport[],
  now: number,
  opts: { tlp?: TlpLevel } = {},
): Promise<RecordResult> {
  // the last report of a window wins (one SRO per id)
  const byId = new Map<string, SightingReport>();
  for (const r of reports) byId.set(sightingId(r), r);
  const stored = await store.getMany([...byId.keys()]);
  const deltas = new Map<string, SightingDelta>();
  const recorded: RecordedSighting[] = [];
  for (const [id, r] of byId) {
    const old = stored.get(id);
    const before = typeof old?.count === 'number' ? old.count : 0;
    const added = r.count - before;
    recorded.push({ id, indicator_id: r.indicatorId, added });
    const d = deltas.get(r.indicatorId);
    if (d) {
      d.count += added;
      d.firstSeen = Math.min(d.firstSeen, r.firstSeen);
      d.lastSeen = Math.max(d.lastSeen, r.lastSeen);
    } else deltas.set(r.indicatorId, { count: added, firstSeen: r.firstSeen, lastSeen: r.lastSeen });
  }
  const identities = new Map<string, StixObject>();
  for (const r of byId.values()) if (!identities.has(r.where)) identities.set(r.where, identityFor(r.where, now));
  const items = [...identities.values(), ...[...byId.values()].map((r) => sightingFor(r, now))].map((object) => ({
    object,
    source: SIGHTINGS_SOURCE,
    ...(opts.tlp ? { tlp: opts.tlp } : {}),
  }));
  const up = await store.upsert(items, { now });
  const [refused] = up.rejected;
  if (refused) {
    throw new StixgateError(
      'STIXGATE_ERR_STIX_INVALID',
      `sightings: the store refused ${up.rejected.length} object(s): ${refused.message}`,
      { reason: 'store_rejected' },
    );
  }
  const m = await store.modify([...deltas.keys()], (cur) => withSightings(cur, entry(deltas, cur.id), sc, now), {
    now,
  });
  return { recorded, indicatorsUpdated: m.updated };
}
