import type { StixObject } from '../core/stix.js';

/** True while the object counts: not revoked, not expired by the store, `valid_until` not passed. */
export function isLive(obj: StixObject, now: number): boolean {
  if (obj.revoked === true || obj.x_stixgate?.expired === true) return false;
  if (typeof obj.valid_until === 'string') {
    const until = Date.parse(obj.valid_until);
    if (Number.isFinite(until) && until <= now) return false;
  }
  return true;
}
