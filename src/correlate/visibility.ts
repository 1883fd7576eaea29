import { tlpOfMarkings, tlpRank, type StixObject, type TlpLevel } from '../core/stix.js';

/**
 * The TLP rank an object is served under, as the lookup index decides it: its marking (an
 * unknown marking fails closed to red), else the most restrictive TLP its sources gave, else the
 * unmarked default.
 */
export function tlpRankOf(obj: StixObject, unmarked: TlpLevel = 'amber'): number {
  const marked = tlpOfMarkings(Array.isArray(obj.object_marking_refs) ? obj.object_marking_refs.filter((r): r is string => typeof r === 'string') : undefined);
  if (marked !== undefined) return tlpRank(marked);
  let rank = -1;
  for (const p of Object.values(obj.x_stixgate?.sources ?? {})) if (p.tlp) rank = Math.max(rank, tlpRank(p.tlp));
  return rank >= 0 ? rank : tlpRank(unmarked);
}

/** True while the object counts: not revoked, not expired by the store, `valid_until` not passed. */
export function isLive(obj: StixObject, now: number): boolean {
  if (obj.revoked === true || obj.x_stixgate?.expired === true) return false;
  if (typeof obj.valid_until === 'string') {
    const until = Date.parse(obj.valid_until);
    if (Number.isFinite(until) && until <= now) return false;
  }
  return true;
}
