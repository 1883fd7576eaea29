/**
 * abuse.ch and OTX timestamps: `2021-01-14 21:19:13 UTC`, `2021-01-14 06:14:05` (UTC without a
 * zone), OTX `2021-06-15T08:22:52.123000` (UTC, microseconds). Returns RFC 3339 with `Z` and
 * millisecond precision, or undefined when the text is not such a time.
 */
const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|UTC|[+-]00:?00)?$/i;

export function parseApiTime(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = TIME_RE.exec(v.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', sec = '00', frac = ''] = m;
  if (y === undefined || mo === undefined || d === undefined) return undefined; // mandatory groups
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +sec, Number(`${frac}000`.slice(0, 3)));
  if (Number.isNaN(ms)) return undefined;
  const iso = new Date(ms).toISOString();
  // reject rolled-over dates such as 2021-02-30
  if (iso.slice(0, 10) !== `${y}-${mo}-${d}` || +h > 23 || +mi > 59 || +sec > 59) return undefined;
  return iso;
}

/** `iso` plus `days` (fractional allowed), RFC 3339. */
export function addDays(iso: string, days: number): string {
  return new Date(Date.parse(iso) + Math.round(days * 86_400_000)).toISOString();
}
