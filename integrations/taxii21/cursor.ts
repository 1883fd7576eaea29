/**
 * The taxii21 cursor: per collection, the `added_after` to ask for next time. It is the
 * `X-TAXII-Date-Added-Last` of the last page stored (or, without that header, the largest
 * `date_added` the collection's manifest gives for the page's objects), never beyond
 * now + max_skew, never moved backwards, and never taken from the local clock.
 *
 * Stored as a small JSON text: `{"v":1,"collections":{"<id>":"<timestamp>"},"resync":true?}`.
 */

import { group } from '../../src/core/indexed.js';

export interface TaxiiCursor {
  collections: Record<string, string>;
  /** Set while `full_resync: true` is configured and its one full read has been done. */
  resync?: boolean;
}

const TS_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/**
 * A TAXII timestamp in a fixed-width form (nanosecond fraction) that sorts as text, or undefined
 * when it is not an RFC 3339 UTC timestamp. Sub-millisecond digits are kept (medallion uses
 * microseconds), so comparisons are exact where Date.parse would round.
 */
export function normalizeTimestamp(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = TS_RE.exec(v.trim());
  if (!m) return undefined;
  const y = group(m, 1);
  const mo = group(m, 2);
  const d = group(m, 3);
  const h = group(m, 4);
  const mi = group(m, 5);
  const s = group(m, 6);
  if (+mo < 1 || +mo > 12 || +d < 1 || +d > 31 || +h > 23 || +mi > 59 || +s > 60) return undefined;
  return `${y}-${mo}-${d}T${h}:${mi}:${s}.${(m[7] ?? '').padEnd(9, '0')}Z`;
}

/** Epoch milliseconds of a normalised timestamp (fraction below 1 ms dropped). */
export function timestampMs(ts: string): number {
  return Date.parse(`${ts.slice(0, 23)}Z`);
}

/** A timestamp for `added_after`: microsecond precision, the form TAXII servers parse most widely. */
export function formatAddedAfter(ts: string): string {
  return `${ts.slice(0, 26)}Z`;
}

function fromMs(ms: number): string {
  const ts = normalizeTimestamp(new Date(ms).toISOString());
  if (ts === undefined) throw new RangeError(`${ms} ms is outside the years 0000-9999 of an RFC 3339 timestamp`);
  return ts;
}

/** The later of two normalised timestamps (either may be missing). */
export function maxTimestamp(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a >= b ? a : b;
}

/** `ts` limited to now + skew; `clamped` says when the server's value was ahead of that. */
export function clampToSkew(ts: string, nowMs: number, maxSkewSecs: number): { value: string; clamped: boolean } {
  const limit = fromMs(nowMs + maxSkewSecs * 1000);
  return ts > limit ? { value: limit, clamped: true } : { value: ts, clamped: false };
}

/** The `added_after` for the first request of a run: the cursor minus the overlap window. */
export function withOverlap(ts: string, overlapSecs: number): string {
  if (overlapSecs <= 0) return ts;
  return fromMs(timestampMs(ts) - overlapSecs * 1000);
}

export function parseCursor(text: string | undefined): TaxiiCursor {
  const out: TaxiiCursor = { collections: {} };
  if (!text) return out;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return out; // an unreadable cursor means "from the start": replays only, never skips
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return out;
  const o = v as Record<string, unknown>;
  const cols = o.collections;
  if (cols && typeof cols === 'object' && !Array.isArray(cols)) {
    for (const [id, ts] of Object.entries(cols as Record<string, unknown>)) {
      const n = normalizeTimestamp(ts);
      if (n)
        Object.defineProperty(out.collections, id, { value: n, enumerable: true, writable: true, configurable: true });
    }
  }
  if (o.resync === true) out.resync = true;
  return out;
}

export function formatCursor(c: TaxiiCursor): string {
  const collections: Record<string, string> = Object.create(null);
  for (const id of Object.keys(c.collections).sort()) {
    const ts = c.collections[id];
    if (ts !== undefined) collections[id] = formatAddedAfter(ts);
  }
  return JSON.stringify(c.resync ? { v: 1, collections, resync: true } : { v: 1, collections });
}
