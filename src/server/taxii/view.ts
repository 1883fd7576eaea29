import { viewOf } from '../../access/view.js';
import type { AccessPolicy } from '../../access/policy.js';
import { tlpRank, type StixObject, type TlpLevel } from '../../core/stix.js';
import type { Store } from '../../store/contract.js';
import type { CollectionConfig } from './schema.js';
import { parseUs } from './clock.js';

/**
 * What one reader receives from one collection: the access policy's view of each object at the
 * reader's ceiling (the lower of the collection's `max_tlp` and the key's), kept when it passes
 * the collection's filters and the request's `match[…]` parameters.
 */

export interface Match {
  ids?: ReadonlySet<string>;
  types?: ReadonlySet<string>;
  specVersions?: ReadonlySet<string>;
  /** `match[version]`: `last`, `first`, `all` or timestamps (µs); default `last`. */
  versions?: { keywords: ReadonlySet<string>; times: ReadonlySet<number> };
}

export function ceilingOf(collection: CollectionConfig, keyMax: TlpLevel): TlpLevel {
  return tlpRank(collection.max_tlp) <= tlpRank(keyMax) ? collection.max_tlp : keyMax;
}

/**
 * The object's TAXII version: `modified`, else `created`, else (SCOs carry neither) the earliest
 * `first_seen` of its contributions in the view; undefined when it has none of these.
 */
export function versionOf(o: StixObject): string | undefined {
  if (typeof o.modified === 'string') return o.modified;
  if (typeof o.created === 'string') return o.created;
  let first: string | undefined;
  for (const p of Object.values(o.x_stixgate?.sources ?? {})) {
    if (typeof p.first_seen === 'string' && (first === undefined || p.first_seen < first)) first = p.first_seen;
  }
  return first;
}

function scoreOf(o: StixObject): number {
  const s = o.x_stixgate?.score;
  return typeof s === 'number' ? s : 0;
}

/** The collection's filters over a view (types, sources, labels, min_score). */
export function inCollection(view: StixObject, c: CollectionConfig): boolean {
  if (c.types.length > 0 && !c.types.includes(view.type)) return false;
  if (c.sources.length > 0) {
    const srcs = Object.keys(view.x_stixgate?.sources ?? {});
    if (!c.sources.some((s) => srcs.includes(s))) return false;
  }
  if (c.labels.length > 0) {
    const labels = Array.isArray(view.labels) ? view.labels : [];
    if (!c.labels.some((l) => labels.includes(l))) return false;
  }
  if (c.min_score > 0 && view.type === 'indicator' && scoreOf(view) < c.min_score) return false;
  return true;
}

/** The request's `match[…]` over a view; `dateAdded` dates versionless objects. */
export function matches(view: StixObject, m: Match, dateAddedUs: () => number): boolean {
  if (m.ids && !m.ids.has(view.id)) return false;
  if (m.types && !m.types.has(view.type)) return false;
  if (m.specVersions && !m.specVersions.has(typeof view.spec_version === 'string' ? view.spec_version : '2.1'))
    return false;
  const versions = m.versions;
  if (versions && versions.times.size > 0 && ['first', 'last', 'all'].every((k) => !versions.keywords.has(k))) {
    const v = versionOf(view);
    const us = v !== undefined ? parseUs(v) : dateAddedUs();
    if (us === undefined || !versions.times.has(us)) return false;
  }
  return true;
}

/** The reader's view of one stored object in the collection, or undefined. */
export function collectionView(
  obj: StixObject,
  c: CollectionConfig,
  ceiling: TlpLevel,
  policy: AccessPolicy,
): StixObject | undefined {
  if (c.types.length > 0 && !c.types.includes(obj.type)) return undefined;
  const view = viewOf(obj, ceiling, policy);
  return view && inCollection(view, c) ? view : undefined;
}

export interface ScanOptions {
  /** Start after this seq. */
  after: number;
  /** Serve nothing beyond this seq (the dated horizon). */
  horizon: number;
  limit: number;
  /** Change-log entries read at most. */
  maxScan: number;
  /** The view to serve for a stored object, or undefined to skip it. */
  pick: (obj: StixObject, seq: number) => StixObject | undefined;
}

export interface ScanResult {
  items: { seq: number; object: StixObject }[];
  /** More may follow (a further page from `pos`). */
  more: boolean;
  /** Where the next page starts (after this seq). */
  pos: number;
}

const READ_CHUNK = 1000;

/**
 * Reads the change log from `after` in seq order (each object once, at its last change) up to the
 * horizon, keeping what `pick` serves, until `limit` objects, the horizon or `maxScan` entries.
 * `more` is true when a further object may follow: one more was found, or the scan budget ran
 * out before the horizon.
 */
export async function scanChanges(store: Store, o: ScanOptions): Promise<ScanResult> {
  const items: ScanResult['items'] = [];
  let pos = o.after;
  let scanned = 0;
  while (pos < o.horizon && scanned < o.maxScan) {
    const page = await store.changes(pos, Math.min(READ_CHUNK, o.maxScan - scanned));
    if (page.changes.length === 0) return { items, more: false, pos: o.horizon };
    for (const c of page.changes) {
      if (c.seq > o.horizon) return { items, more: false, pos };
      const view = o.pick(c.object, c.seq);
      if (view) {
        if (items.length === o.limit) return { items, more: true, pos };
        items.push({ seq: c.seq, object: view });
      }
      pos = c.seq;
      scanned++;
    }
  }
  return { items, more: pos < o.horizon, pos };
}
