import { LRUCache } from 'lru-cache';
import type { Candidate } from './source.js';

/** Bytes counted per cached value beyond its indicators' JSON (key, arrays, the entry itself). */
const ENTRY_OVERHEAD = 96;

/**
 * The remote lookups' hot cache: canonical listed value → the active indicators that list it (an
 * empty list caches a value the filter let through but no indicator lists). Bounded in bytes (the
 * indicators' stored JSON plus a per-entry overhead) by lru-cache. Kept current from the change
 * log: a change to an indicator drops the entries of every value it lists now and of every entry
 * it was cached in (its pattern may have changed).
 */
export class HotCache {
  private readonly lru: LRUCache<string, readonly Candidate[]>;
  /** Indicator id → the cached values whose entries hold it. */
  private readonly byId = new Map<string, Set<string>>();
  hits = 0;
  misses = 0;

  private readonly off: boolean;

  /** `maxBytes` 0: nothing is cached. */
  constructor(maxBytes: number) {
    this.off = maxBytes <= 0;
    this.lru = new LRUCache<string, readonly Candidate[]>({
      maxSize: Math.max(1, maxBytes),
      sizeCalculation: (list, key) => {
        let n = ENTRY_OVERHEAD + key.length * 2;
        for (const e of list) n += ENTRY_OVERHEAD + e.bytes;
        return n;
      },
      dispose: (list, key) => this.unlink(key, list),
    });
  }

  get(value: string): readonly Candidate[] | undefined {
    const v = this.off ? undefined : this.lru.get(value);
    if (v === undefined) this.misses++;
    else this.hits++;
    return v;
  }

  set(value: string, list: readonly Candidate[]): void {
    if (this.off) return;
    this.lru.set(value, list);
    if (!this.lru.has(value)) return; // larger than the whole cache
    for (const e of list) {
      let keys = this.byId.get(e.id);
      if (keys === undefined) {
        keys = new Set();
        this.byId.set(e.id, keys);
      }
      keys.add(value);
    }
  }

  /** Drops what a change to indicator `id` listing `values` may have made stale. */
  invalidate(id: string, values: Iterable<string>): void {
    for (const v of values) this.lru.delete(v);
    const keys = this.byId.get(id);
    if (keys) for (const k of [...keys]) this.lru.delete(k);
  }

  get size(): number {
    return this.lru.size;
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }

  private unlink(key: string, list: readonly Candidate[]): void {
    for (const e of list) {
      const keys = this.byId.get(e.id);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) this.byId.delete(e.id);
    }
  }
}
