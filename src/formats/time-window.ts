import type { Logger } from '../telemetry/logger.js';
import type { MappedItem, Page } from '../pipeline/types.js';
import type { Rejection } from '../core/errors.js';

/** Clock skew tolerated in record times: a cursor is never set beyond `now + MAX_SKEW_MS`, whatever time a server claims. */
export const MAX_SKEW_MS = 5 * 60_000;
export const PAGE_SIZE = 1000;

/** The cursor of the "recent records" APIs: the newest record time of the last completed run. */
export function parseCursor(cursor: string | undefined): number | undefined {
  if (!cursor) return undefined;
  const ms = Date.parse(cursor);
  return Number.isNaN(ms) ? undefined : ms;
}

export interface MappedRecord {
  items: MappedItem[];
  rejection?: Rejection;
  /** The record's newest time (epoch ms): its addition or last sighting. */
  time?: number;
}

/**
 * Pages for one "recent records" answer. abuse.ch has no server-side `since` filter, so the
 * window is applied here: records older than `cursor - overlap` were stored by an earlier run
 * and are skipped; everything newer (the overlap included; the store is idempotent) is mapped.
 * The cursor (the newest record time seen, never beyond `now + MAX_SKEW_MS`, never backwards)
 * rides on the last page only, so an interrupted run commits none. When a full answer's oldest
 * record is newer than the cursor, records may have been missed between polls: logged as a gap.
 */
export function* windowPages(
  records: unknown[],
  o: {
    cursor?: string;
    overlapMs: number;
    now: number;
    limit?: number;
    logger: Logger;
    component: string;
    map: (rec: unknown, index: number) => MappedRecord;
    time: (rec: unknown) => number | undefined;
  },
): Generator<Page> {
  const since = parseCursor(o.cursor);
  const from = since === undefined ? -Infinity : since - o.overlapMs;
  let newest = since ?? -Infinity;
  let oldest = Infinity;
  let page: Page = { items: [], rejections: [], received: 0 };
  for (let i = 0; i < records.length; i++) {
    const t = o.time(records[i]);
    if (t !== undefined) oldest = Math.min(oldest, t);
    page.received++;
    if (t !== undefined && t < from) continue;
    const m = o.map(records[i], i);
    page.items.push(...m.items);
    if (m.rejection) page.rejections.push(m.rejection);
    if (m.time !== undefined) newest = Math.max(newest, Math.min(m.time, o.now + MAX_SKEW_MS));
    if (page.received >= PAGE_SIZE) {
      yield page;
      page = { items: [], rejections: [], received: 0 };
    }
  }
  if (since !== undefined && o.limit !== undefined && records.length >= o.limit && oldest > since) {
    o.logger.warn(
      { source: o.component, cursor: o.cursor, oldest: new Date(oldest).toISOString() },
      'possible gap: the answer is full and its oldest record is newer than the cursor; poll more often',
    );
  }
  if (Number.isFinite(newest)) page.cursor = new Date(newest).toISOString();
  yield page;
}
