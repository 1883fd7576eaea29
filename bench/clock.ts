/**
 * The benchmarks' clock: every synthetic date is placed relative to the start of the run, so the
 * scoring decay sees the same ages whatever the calendar date (fixed dates aged the data out of the
 * lookup index as the months passed). Rounded down to the hour so the processes of one run agree.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const RUN_NOW = Math.floor(Date.now() / HOUR) * HOUR;

/** Epoch milliseconds `days` days before the run started. */
export function daysBefore(days: number): number {
  return RUN_NOW - days * DAY;
}

/** ISO-8601 timestamp (`…T…Z`) `days` days before the run started. */
export function isoDaysBefore(days: number): string {
  return new Date(daysBefore(days)).toISOString();
}

/** `YYYY-MM-DD HH:MM:SS` (the CSV feeds' form) `days` days before the run started. */
export function csvDaysBefore(days: number): string {
  return isoDaysBefore(days).slice(0, 19).replace('T', ' ');
}
