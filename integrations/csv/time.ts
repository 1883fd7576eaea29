/**
 * Feed timestamps → RFC 3339 UTC. Feeds write times without a zone (`2024-04-04 07:03:03`,
 * `2024-04-04`): they are read as UTC, never in the local time zone.
 */
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?$/i;
const EPOCH_SECONDS = /^\d{9,11}$/;

/**
 * Feeds repeat the same timestamps on many rows (one per poll, one per day): the last results
 * are memoised. The function is pure (UTC only), so a hit returns exactly what parsing would.
 */
const MEMO_MAX = 4096;
let memo = new Map<string, string | undefined>();

function parse(t: string): string | undefined {
  if (EPOCH_SECONDS.test(t)) return new Date(Number(t) * 1000).toISOString();
  const m = DATE_TIME.exec(t);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '0', zone] = m;
  let ms = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(sec),
    Math.floor(Number(`0.${frac}`) * 1000),
  );
  const check = new Date(ms);
  if (
    check.getUTCDate() !== Number(d) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(sec) > 60
  )
    return undefined;
  if (zone && /^[+-]/.test(zone)) {
    const z = zone.replace(':', '');
    const off = (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5))) * 60_000;
    ms += z[0] === '+' ? -off : off;
  }
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

export function parseFeedTime(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const t = raw.trim();
  if (t === '') return undefined;
  if (memo.has(t)) return memo.get(t);
  const out = parse(t);
  if (memo.size >= MEMO_MAX) memo = new Map();
  memo.set(t, out);
  return out;
}
