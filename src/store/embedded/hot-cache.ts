import { LRUCache } from 'lru-cache';
import type { StixObject } from '../../core/stix.js';
import type { IngestItem } from '../contract.js';

/**
 * The unchanged-upsert cache: id → fingerprints of deliveries whose merge into the stored
 * object is known to be a fixed point (merging them again changes nothing). A re-polled
 * record whose fingerprint matches, and whose `seenAt` falls inside that source's
 * [first_seen, last_seen + granularity], is counted `unchanged` without reading, parsing or
 * merging the stored row.
 *
 * Soundness: merging the same delivery twice is idempotent for content and for the monotone
 * fields; provenance is unchanged while seenAt stays inside the window and the stored
 * confidence of that source is the delivery's own. Every write to an id replaces its entry;
 * `expire` forgets it; only active objects are cached. Memory is bounded by `maxEntries`
 * (least recently used out); a miss only costs the normal read-merge path.
 */
interface Entry {
  print: string;
  firstMs: number;
  lastMs: number;
  next?: Entry;
}

const MAX_PRINTS_PER_ID = 4;

/** Hash state of the two 32-bit lanes (FNV-1a and a murmur-style mix), fed one string at a time. */
let h1 = 0;
let h2 = 0;

function feed(s: string): void {
  let a = h1;
  let b = h2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  h1 = a;
  h2 = b;
}

/**
 * A 64-bit fingerprint of one delivery (object as sent, source, confidence, TLP): the hash of
 * `json NUL source NUL confidence NUL tlp`, fed piece by piece so that the text is never joined.
 * `json` is JSON.stringify(item.object), passed when the caller already has it.
 */
export function fingerprint(item: IngestItem, json: string = JSON.stringify(item.object)): string {
  const conf = String(item.confidence ?? '');
  const tlp = String(item.tlp ?? '');
  h1 = 0x811c9dc5;
  h2 = 0x9747b28c ^ (json.length + item.source.length + conf.length + tlp.length + 3);
  feed(json);
  feed('\u0000');
  feed(item.source);
  feed('\u0000');
  feed(conf);
  feed('\u0000');
  feed(tlp);
  return (h1 >>> 0).toString(36) + (h2 >>> 0).toString(36);
}

export interface Printed {
  print: string;
  item: IngestItem;
}

export class HotCache {
  /**
   * Least recently used out. (A Map evicting its first key slowed to a crawl past `maxEntries`:
   * V8 leaves deleted entries as holes that every `keys().next()` walks over, so each eviction
   * cost up to a table's length and a 5M-object fill stalled once the cache was full.)
   */
  private readonly map: LRUCache<string, Entry>;

  private seenText: string | undefined;
  private seenMs = NaN;

  constructor(private readonly maxEntries: number) {
    this.map = new LRUCache<string, Entry>({ max: Math.max(1, maxEntries) });
  }

  /** Date.parse, remembering the last text (a batch's deliveries share their seen time). */
  private parseSeen(text: string): number {
    if (text !== this.seenText) {
      this.seenMs = Date.parse(text);
      this.seenText = text;
    }
    return this.seenMs;
  }

  get enabled(): boolean {
    return this.maxEntries > 0;
  }

  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
  }

  forget(id: string): void {
    this.map.delete(id);
  }

  isFixedPoint(id: string, print: string, item: IngestItem, now: number, gran: number): boolean {
    let e = this.map.get(id);
    if (!e) return false;
    const seenMs = item.seenAt === undefined ? now : this.parseSeen(item.seenAt);
    if (Number.isNaN(seenMs)) return false;
    for (; e; e = e.next) {
      if (e.print === print) return seenMs >= e.firstMs && seenMs <= e.lastMs + gran;
    }
    return false;
  }

  /** Records the fixed-point deliveries of an id after a batch (`changed`: the row was rewritten). */
  remember(id: string, printed: readonly Printed[], obj: StixObject, changed: boolean): void {
    if (!this.enabled) return;
    if (obj.revoked === true || obj.x_stixgate?.expired === true) {
      this.map.delete(id);
      return;
    }
    let head = changed ? undefined : this.map.get(id);
    if (changed) this.map.delete(id);
    const sources = obj.x_stixgate?.sources;
    for (const { print, item } of printed) {
      const prov = sources && Object.hasOwn(sources, item.source) ? sources[item.source] : undefined;
      if (!prov) continue;
      const conf =
        typeof item.confidence === 'number'
          ? item.confidence
          : typeof item.object.confidence === 'number'
            ? item.object.confidence
            : undefined;
      if (conf !== undefined && prov.confidence !== conf) continue;
      const firstMs = Date.parse(prov.first_seen);
      const lastMs = Date.parse(prov.last_seen);
      if (Number.isNaN(firstMs) || Number.isNaN(lastMs)) continue;
      let n = 0;
      let dup = false;
      for (let e = head; e; e = e.next) {
        n++;
        if (e.print === print) {
          dup = true;
          e.firstMs = firstMs;
          e.lastMs = lastMs;
        }
      }
      if (dup) continue;
      head = { print, firstMs, lastMs, next: n >= MAX_PRINTS_PER_ID ? undefined : head };
    }
    if (!head) return;
    this.map.set(id, head);
  }
}
