/**
 * The time model (docs/scoring.md §2.1). An indicator's age is measured from the time its sources
 * last saw it, and a record says when that was in the same way for every format:
 *
 *  - a record that carries dates is seen at its latest "still observed" date: `last_seen` (MISP,
 *    CSV and abuse.ch columns, STIX sightings), else the date it was last updated or reported
 *    (MISP attribute `timestamp`, STIX `modified`, OTX `created`, CSV `first_seen`, KEV `dateAdded`);
 *  - an undated record (a line of a text list) is seen at the source's poll time: a list that
 *    still carries a value is observing it now (an unchanged list is read again once a day,
 *    `UNDATED_RELIST_MS`, so that its values stay seen);
 *  - a date after the poll time counts as the poll time (a clock ahead, or a typo, must not keep
 *    a value fresh for years).
 *
 * Mappers put the record's time in `MappedItem.seenAt`; the runner passes it through
 * `recordSeenAt` before the store sees it.
 */
import { stixTime, type StixObject } from '../core/stix.js';

/**
 * How long an undated document (text list, CSV without date columns) may go unread while its
 * server says it is unchanged: past this, it is read again so that the values it still lists are
 * seen at the poll time. One day is well inside the shortest recommended half-life (7 days).
 */
export const UNDATED_RELIST_MS = 86_400_000;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * The time a STIX 2.x object records its last observation in: `last_seen` (sighting, and the
 * SDOs that have one), `last_observed` (observed-data), else `modified`, else `created`.
 * Undefined for objects without timestamps (SCOs): they are seen at the poll time.
 */
export function stixRecordTime(obj: StixObject): string | undefined {
  return str(obj.last_seen) ?? str(obj.last_observed) ?? str(obj.modified) ?? str(obj.created);
}

/**
 * The `seenAt` the store is given for a record: its own time when it parses and is not after the
 * poll, the poll time when it is later, undefined (the store uses the poll time) when the record
 * is undated or its date does not parse.
 */
export function recordSeenAt(seenAt: string | undefined, pollMs: number): string | undefined {
  if (seenAt === undefined) return undefined;
  const t = Date.parse(seenAt);
  if (Number.isNaN(t)) return undefined;
  return t > pollMs ? stixTime(pollMs) : seenAt;
}
