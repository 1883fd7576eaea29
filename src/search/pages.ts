import type { StixObject, TlpLevel } from '../core/stix.js';
import type { AccessPolicy } from '../access/policy.js';
import { viewOf } from '../access/view.js';
import type { Store } from '../store/contract.js';
import { matches, storeQuery, type SearchFilter } from './filter.js';
import { at } from '../core/indexed.js';

/**
 * Search over any Store, on a reader's view, one bounded page at a time. The store is read in its
 * stable insertion order (embedded: rowid; OpenSearch: first_seq), so objects written while a
 * client pages never repeat an object already returned nor skip one that existed when paging
 * began: an updated object keeps its place, a new one comes after every existing one.
 */

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
/** Objects read from the store per store call. */
export const STORE_PAGE = 500;
/** Objects a single search page may read before it answers (with a cursor) however few matched. */
export const SCAN_BUDGET = 20_000;

export interface Reader {
  ceiling: TlpLevel;
  policy: AccessPolicy;
}

export interface SearchPage {
  objects: StixObject[];
  /** The store position to resume after; none when the store holds nothing further. */
  next?: string;
  /** Objects read from the store for this page. */
  scanned: number;
}

/**
 * One page: up to `limit` views that pass the filter, reading at most `budget` stored objects. A
 * page may hold fewer than `limit` objects (even none) and still have a `next`: a selective
 * filter over a large store answers in bounded time, and the client goes on with the cursor.
 */
export async function searchPage(
  store: Store,
  filter: SearchFilter,
  reader: Reader,
  o: { limit: number; after?: string; budget?: number },
): Promise<SearchPage> {
  const budget = o.budget ?? SCAN_BUDGET;
  const base = storeQuery(filter);
  const out: StixObject[] = [];
  let after = o.after;
  let scanned = 0;
  for (;;) {
    const page = await store.query({ ...base, after, limit: Math.min(STORE_PAGE, Math.max(1, budget - scanned)) });
    // a store without per-object positions can only resume at a page's end: read pages no longer
    // than the matches still wanted, so a page never holds more matches than fit
    if (page.positions === undefined && page.objects.length > o.limit - out.length) {
      const small = await store.query({ ...base, after, limit: o.limit - out.length });
      return finishWithoutPositions(small, out, filter, reader, scanned);
    }
    for (let i = 0; i < page.objects.length; i++) {
      scanned++;
      const v = viewOf(at(page.objects, i), reader.ceiling, reader.policy);
      if (v && matches(v, filter, reader.ceiling, reader.policy)) out.push(v);
      const last = i === page.objects.length - 1;
      if (out.length >= o.limit || scanned >= budget) {
        const more = !last || page.next !== undefined;
        return { objects: out, next: more ? (page.positions?.[i] ?? page.next) : undefined, scanned };
      }
    }
    if (page.next === undefined) return { objects: out, scanned };
    after = page.next;
  }
}

function finishWithoutPositions(
  page: { objects: StixObject[]; next?: string },
  out: StixObject[],
  filter: SearchFilter,
  reader: Reader,
  scanned: number,
): SearchPage {
  for (const obj of page.objects) {
    const v = viewOf(obj, reader.ceiling, reader.policy);
    if (v && matches(v, filter, reader.ceiling, reader.policy)) out.push(v);
  }
  return { objects: out, next: page.next, scanned: scanned + page.objects.length };
}

/** Every view that passes the filter, in store order, read one store page at a time (for exports). */
export async function* searchAll(store: Store, filter: SearchFilter, reader: Reader): AsyncGenerator<StixObject> {
  const base = storeQuery(filter);
  let after: string | undefined;
  for (;;) {
    const page = await store.query({ ...base, after, limit: STORE_PAGE });
    for (const obj of page.objects) {
      const v = viewOf(obj, reader.ceiling, reader.policy);
      if (v && matches(v, filter, reader.ceiling, reader.policy)) yield v;
    }
    if (page.next === undefined) return;
    after = page.next;
  }
}
