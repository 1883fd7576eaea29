import { s, type Infer } from '../core/schema.js';
import type { StixObject } from '../core/stix.js';
import { INTERNAL_CURSOR_PREFIX, type PurgeOptions } from './contract.js';

export type { PurgeOptions, PurgeResult } from './contract.js';

/**
 * Retention of ended objects (docs/adr/0029-index-lifecycle.md): expired and revoked objects are
 * deleted some time after they ended, by one instance of the fleet (the `retention` lease), and
 * only once every sink's cursor has passed their last change, so each sink has been told to
 * remove the value first. The same `store.retention` keys apply to both store backends.
 */

const DAY_MS = 86_400_000;

/** The `store.retention` defaults (also in the `store:` defaults of both backends). */
export const DEFAULT_RETENTION = { expired_after_days: 30, revoked_after_days: 30, interval_mins: 60 };

export const retentionSchema = s.object(
  {
    expired_after_days: s.number({
      default: 30,
      min: 0,
      max: 36_500,
      description:
        'delete an expired object this long after it ended (the later of its valid_until and its last sighting by a source); 0: never',
    }),
    revoked_after_days: s.number({
      default: 30,
      min: 0,
      max: 36_500,
      description: 'delete a revoked object this long after a source last delivered it; 0: never',
    }),
    interval_mins: s.int({
      default: 60,
      min: 1,
      max: 10_080,
      description: 'how often the retention job runs (on one instance: the holder of the `retention` lease)',
    }),
  },
  {
    default: { ...DEFAULT_RETENTION },
    description: 'deletion of ended objects, never before every sink has passed their removal (docs/retention.md)',
  },
);

export type RetentionConfig = Infer<typeof retentionSchema>;

/**
 * The internal cursor holding the highest change-log position retention has deleted (or is about
 * to delete). A reader that restores state from before it (a lookup snapshot) cannot catch up from
 * the change log and rebuilds instead; the embedded store never numbers a change at or below it.
 */
export const RETENTION_CURSOR = `${INTERNAL_CURSOR_PREFIX}retention-purged-through`;

/** The cut-offs of a retention configuration at `now` (undefined: that kind is kept for ever). */
export function retentionCutoffs(
  cfg: RetentionConfig,
  now: number,
): { expiredBefore?: number; revokedBefore?: number } {
  const out: { expiredBefore?: number; revokedBefore?: number } = {};
  if (cfg.expired_after_days > 0) out.expiredBefore = now - cfg.expired_after_days * DAY_MS;
  if (cfg.revoked_after_days > 0) out.revokedBefore = now - cfg.revoked_after_days * DAY_MS;
  return out;
}

/** The latest `last_seen` of the object's sources (epoch ms), or undefined when none is a date. */
export function lastDelivered(obj: StixObject): number | undefined {
  let last: number | undefined;
  for (const p of Object.values(obj.x_stixgate?.sources ?? {})) {
    const t = Date.parse(p.last_seen);
    if (!Number.isNaN(t) && (last === undefined || t > last)) last = t;
  }
  return last;
}

/** Whether an ended object is due for deletion under `o` (the rule both stores apply). */
export function purgeDue(obj: StixObject, o: Pick<PurgeOptions, 'expiredBefore' | 'revokedBefore'>): boolean {
  const seen = lastDelivered(obj) ?? Number.NEGATIVE_INFINITY;
  if (obj.revoked === true) return o.revokedBefore !== undefined && seen <= o.revokedBefore;
  if (obj.x_stixgate?.expired !== true || o.expiredBefore === undefined) return false;
  const until = typeof obj.valid_until === 'string' ? Date.parse(obj.valid_until) : Number.NaN;
  return (Number.isNaN(until) || until <= o.expiredBefore) && seen <= o.expiredBefore;
}
