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
 * (oldest first out); a miss only costs the normal read-merge path.
 */
interface Entry {
  print: string;
  firstMs: number;
  lastMs: number;
  next?: Entry;
}

const MAX_PRINTS_PER_ID = 4;

function hashString(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 13;
  }
  return (h1 >>> 0).toString(36) + (h2 >>> 0).toString(36);
}

/** A 64-bit fingerprint of one delivery (object as sent, source, confidence, TLP). */
export function fingerprint(item: IngestItem): string {
  return hashString(`${JSON.stringify(item.object)}\u0000${item.source}\u0000${item.confidence ?? ''}\u0000${item.tlp ?? ''}`);
}

export interface Printed {
  print: string;
  item: IngestItem;
}

export class HotCache {
  private readonly map = new Map<string, Entry>();

  constructor(private readonly maxEntries: number) {}

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
    const seenMs = item.seenAt === undefined ? now : Date.parse(item.seenAt);
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
      const conf = typeof item.confidence === 'number' ? item.confidence
        : typeof item.object.confidence === 'number' ? item.object.confidence : undefined;
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
    if (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
  }
}
