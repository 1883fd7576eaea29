import type { StixObject, TlpLevel } from '../core/stix.js';
import type { AccessPolicy } from '../access/policy.js';
import { viewWithTlp } from '../access/view.js';
import type { Store } from '../store/contract.js';
import { summariseSources } from './summary.js';
import type { InactiveMatch } from './types.js';

/** Most inactive indicators reported per value (bounded answers; the newest states are not preferred). */
export const MAX_INACTIVE_PER_VALUE = 100;

const time = (ms: number): string | null => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);

/**
 * Why an indicator is not served as a hit at `now`, and since when: `revoked` (ended at the
 * revoking version's `modified`), or `expired` (ended at its `valid_until`, the source's or the
 * one derived from its decay, docs/scoring.md §3); undefined while it is active.
 */
export function inactiveState(
  obj: StixObject,
  now: number,
): { state: InactiveMatch['state']; ended: string | null } | undefined {
  if (obj.revoked === true) return { state: 'revoked', ended: time(Date.parse(String(obj.modified))) };
  const until = typeof obj.valid_until === 'string' ? Date.parse(obj.valid_until) : Number.NaN;
  if (Number.isFinite(until) && until <= now) return { state: 'expired', ended: time(until) };
  if (obj.x_stixgate?.expired === true) return { state: 'expired', ended: time(until) };
  return undefined;
}

/**
 * The expired and revoked indicators that list `value` (canonical, exact match), each as the reader
 * with `ceiling` sees it (src/access: its visible contributions only, its state and end computed
 * from that view); indicators it cannot see are left out, as in a hit list. Read from the store:
 * the lookup index holds active indicators only.
 */
export async function inactiveMatches(
  store: Pick<Store, 'query'>,
  access: AccessPolicy,
  value: string,
  ceiling: TlpLevel,
  now: number,
): Promise<InactiveMatch[]> {
  const page = await store.query({ type: 'indicator', value, includeRevoked: true, limit: MAX_INACTIVE_PER_VALUE });
  const out: InactiveMatch[] = [];
  for (const obj of page.objects) {
    const seen = viewWithTlp(obj, ceiling, access);
    if (!seen) continue;
    const { view, tlp } = seen;
    const st = inactiveState(view, now);
    if (!st) continue;
    const d = summariseSources(view);
    const score = view.x_stixgate?.score;
    out.push({
      id: obj.id,
      state: st.state,
      ended: st.ended,
      matched_value: value,
      score: typeof score === 'number' && score >= 0 && score <= 100 ? Math.round(score) : null,
      tlp,
      labels: d.labels,
      sources: d.sources,
      first_seen: time(d.first),
      last_seen: time(d.last),
      valid_until: typeof view.valid_until === 'string' ? time(Date.parse(view.valid_until)) : null,
    });
  }
  out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return out;
}
