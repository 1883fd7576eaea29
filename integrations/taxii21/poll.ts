import type { Rejection } from '../../src/core/errors.js';
import type { MappedItem } from '../../src/pipeline/types.js';
import { checkObject, DEFAULT_CAPS } from '../../src/core/stix-check.js';
import { checkedItems } from '../../src/formats/checked-items.js';
import type { TaxiiClient } from './client.js';
import { clampToSkew, formatAddedAfter, maxTimestamp, normalizeTimestamp } from './cursor.js';
import type { TaxiiCollection } from './discover.js';

/**
 * Paging through one collection's `GET …/objects/`. Follows `next` (repeating the first request's
 * filters, as TAXII 2.1 and medallion require); when a page says `more` without `next`, asks again
 * with `added_after` = that page's `X-TAXII-Date-Added-Last`. A loop detector stops after
 * STUCK_PAGES identical pages in a row (a server that pages in a loop). Each page carries the collection's new cursor.
 */

/** Identical pages in a row after which paging stops with `taxii_pagination_stuck`. */
export const STUCK_PAGES = 3;

/** A `next` that is a link rather than an opaque token: followed only on the configured origin. */
const LINK_RE = /^(?:[a-z][a-z0-9+.-]*:\/\/|\/|(?:file|data|javascript|ftp|gopher|blob):)/i;

export interface PollOptions {
  component: string;
  pageSize: number;
  matchTypes: string[];
  specVersions: string[];
  maxPages: number;
  maxSkewSecs: number;
  now: number;
  signal: AbortSignal;
  warn: (fields: Record<string, unknown>, msg: string) => void;
}

export interface PolledPage {
  items: MappedItem[];
  rejections: Rejection[];
  received: number;
  /** The collection's cursor after this page (normalised timestamp), if known. */
  cursor?: string;
}

interface Envelope {
  objects: unknown[];
  more: boolean;
  next?: string;
}

function envelope(body: Record<string, unknown>): Envelope {
  const objects = Array.isArray(body.objects) ? body.objects : [];
  const next = typeof body.next === 'string' && body.next !== '' ? body.next : undefined;
  return { objects, more: body.more === true, next };
}

function versionOf(o: unknown): string {
  if (!o || typeof o !== 'object') return '';
  const r = o as Record<string, unknown>;
  return `${String(r.id ?? '')}@${String(r.modified ?? r.created ?? '')}`;
}

function objectsQuery(base: Record<string, string>, extra: Record<string, string>): string {
  const q = new URLSearchParams({ ...base, ...extra });
  return q.toString();
}

/**
 * The date_added of a page's last object, from the collection manifest, when the server sent no
 * `X-TAXII-Date-Added-Last` (never the local clock). Objects come sorted by date_added, so
 * the last object's is the page's largest.
 */
async function manifestDateAdded(
  client: TaxiiClient,
  col: TaxiiCollection,
  last: unknown,
  addedAfter: string | undefined,
): Promise<string | undefined> {
  const id = last && typeof last === 'object' ? (last as Record<string, unknown>).id : undefined;
  if (typeof id !== 'string') return undefined;
  const q = new URLSearchParams({ 'match[id]': id });
  if (addedAfter) q.set('added_after', formatAddedAfter(addedAfter));
  try {
    const res = await client.get(`${col.url}manifest/?${q.toString()}`);
    const list = Array.isArray(res.body.objects) ? res.body.objects : [];
    let best: string | undefined;
    for (const m of list)
      best = maxTimestamp(best, normalizeTimestamp((m as Record<string, unknown> | null)?.date_added));
    return best;
  } catch {
    return undefined; // no manifest support: the cursor stays where it was (replay, never skip)
  }
}

export async function* pollCollection(
  client: TaxiiClient,
  col: TaxiiCollection,
  startAfter: string | undefined,
  o: PollOptions,
): AsyncGenerator<PolledPage> {
  const objectsUrl = `${col.url}objects/`;
  const filters: Record<string, string> = { limit: String(o.pageSize) };
  if (o.matchTypes.length) filters['match[type]'] = o.matchTypes.join(',');
  if (o.specVersions.length) filters['match[spec_version]'] = o.specVersions.join(',');
  let addedAfter = startAfter;
  let next: string | undefined;
  let cursor: string | undefined;
  let prevSig: string | undefined;
  let identical = 0;
  let warnedIgnore = false;
  let warnedSkew = false;
  let warnedNoDate = false;
  for (let page = 0; ; page++) {
    if (o.signal.aborted) return;
    if (page >= o.maxPages) {
      o.warn(
        { collection: col.id, reason: 'taxii_max_pages' },
        `collection ${col.title}: max_pages_per_run (${o.maxPages}) reached; the next run goes on from the cursor`,
      );
      return;
    }
    const base = addedAfter ? { ...filters, added_after: formatAddedAfter(addedAfter) } : filters;
    let url: string;
    if (next !== undefined && LINK_RE.test(next)) {
      url = client.sameOrigin(next, objectsUrl, '`next` link'); // a link, not a token
    } else {
      url = `${objectsUrl}?${objectsQuery(base, next !== undefined ? { next } : {})}`;
    }
    const res = await client.get(url);
    const env = envelope(res.body);
    const rejections: Rejection[] = [];
    const items: MappedItem[] = [];
    env.objects.forEach((raw, i) => {
      const r = checkObject(raw, DEFAULT_CAPS);
      if (!r.ok) {
        rejections.push({
          reason: r.reason,
          message: r.message,
          location: { source: o.component, index: i, ...(r.id ? { objectId: r.id } : {}) },
        });
        return;
      }
      items.push(...checkedItems(r));
    });

    const first = normalizeTimestamp(res.headers['x-taxii-date-added-first']);
    let last = normalizeTimestamp(res.headers['x-taxii-date-added-last']);
    if (last === undefined && env.objects.length > 0) {
      last = await manifestDateAdded(client, col, env.objects[env.objects.length - 1], addedAfter);
      if (last === undefined && !warnedNoDate) {
        warnedNoDate = true;
        o.warn(
          { collection: col.id, reason: 'taxii_no_date_added' },
          `collection ${col.title}: no X-TAXII-Date-Added-Last and no manifest date_added; the cursor is kept (objects are read again next run)`,
        );
      }
    }
    // objects added at or before the added_after we sent mean the server ignored the filter
    const seen = first ?? last;
    if (
      addedAfter !== undefined &&
      seen !== undefined &&
      !warnedIgnore &&
      ((first !== undefined && first <= addedAfter) ||
        (last !== undefined && last <= addedAfter && env.objects.length > 0))
    ) {
      warnedIgnore = true;
      const message = `collection ${col.title}: server ignores added_after (asked after ${formatAddedAfter(addedAfter)}, got objects added ${formatAddedAfter(seen)}); the store absorbs the replay`;
      o.warn({ collection: col.id, reason: 'taxii_ignores_added_after' }, message);
      rejections.push({ reason: 'taxii_ignores_added_after', message, location: { source: o.component } });
    }
    if (last !== undefined) {
      const c = clampToSkew(last, o.now, o.maxSkewSecs);
      if (c.clamped && !warnedSkew) {
        warnedSkew = true;
        o.warn(
          { collection: col.id, reason: 'taxii_date_ahead' },
          `collection ${col.title}: X-TAXII-Date-Added-Last ${formatAddedAfter(last)} is ahead of now + max_skew_secs; cursor limited to ${formatAddedAfter(c.value)}`,
        );
      }
      cursor = maxTimestamp(cursor, c.value);
    }

    // the same page again and again (no next, the same Date-Added-Last, or a server looping)
    // the same objects again are a repeat whatever the headers say; empty pages differ by header
    // and by `next` (a server that filters a long stretch of its log answers empty pages with
    // more: true, each with a new `next`; the same `next` again is a loop)
    const sig =
      env.objects.length > 0
        ? `${env.objects.length}|${versionOf(env.objects[0])}|${versionOf(env.objects[env.objects.length - 1])}|${env.more}`
        : `0|${last ?? ''}|${env.more}|${env.next ?? ''}`;
    identical = sig === prevSig ? identical + 1 : 1;
    prevSig = sig;
    const stuck = env.more && identical >= STUCK_PAGES;
    if (stuck) {
      const message = `collection ${col.title}: ${STUCK_PAGES} identical pages with more=true (${env.next === undefined ? 'no next' : 'the same next'}, X-TAXII-Date-Added-Last ${last ? formatAddedAfter(last) : 'missing'}); paging stopped`;
      o.warn({ collection: col.id, reason: 'taxii_pagination_stuck' }, message);
      rejections.push({ reason: 'taxii_pagination_stuck', message, location: { source: o.component } });
    }
    yield { items, rejections, received: env.objects.length, cursor };
    if (!env.more || stuck) return;
    if (env.next !== undefined) {
      next = env.next;
    } else {
      // `more` without `next`: page on by date_added (TAXII 2.1 §3.4); without progress the same
      // request is repeated and the detector above ends it after STUCK_PAGES pages
      next = undefined;
      if (last !== undefined && (addedAfter === undefined || last > addedAfter)) addedAfter = last;
    }
  }
}
