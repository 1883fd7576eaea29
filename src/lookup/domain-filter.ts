/**
 * A Bloom filter over the listed domain names, small enough to stay in cache, so that the probes
 * for a host and its parent domains (most of which miss) skip the large Map. Hashes are computed
 * right to left, so one pass over a host yields the hash of the host and of every parent suffix.
 * Removals are not supported by a Bloom filter: it is rebuilt from the Map when it has grown or
 * gone stale.
 */
const BITS_PER_ENTRY = 16;
const MIN_BITS = 1 << 13;

export class DomainFilter {
  private bits = new Uint32Array(MIN_BITS >>> 5);
  private mask = MIN_BITS - 1;
  private added = 0;
  private removed = 0;

  /** `source` gives the listed domains and their count (read at each rebuild, never copied). */
  constructor(private readonly source: () => { readonly size: number; keys(): Iterable<string> }) {}

  add(domain: string): void {
    this.added++;
    if (this.added * BITS_PER_ENTRY > this.bits.length * 32) this.rebuild();
    else this.set(hashFromRight(domain, 0));
  }

  /** Call when a domain left the Map (the filter keeps it until the next rebuild). */
  remove(): void {
    this.removed++;
    if (this.removed > 1024 && this.removed * 2 > this.added) this.rebuild();
  }

  /** False when `hash` (from hashFromRight / the step function) is surely not listed. */
  mightHave(h: number): boolean {
    const h2 = (Math.imul(h ^ (h >>> 16), 0x45d9f3b) | 1) >>> 0;
    for (let i = 0; i < 3; i++) {
      const bit = (h + i * h2) & this.mask;
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false; // bit is masked to the filter
    }
    return true;
  }

  private set(h: number): void {
    const h2 = (Math.imul(h ^ (h >>> 16), 0x45d9f3b) | 1) >>> 0;
    for (let i = 0; i < 3; i++) {
      const bit = (h + i * h2) & this.mask;
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
  }

  /** Rebuilds the filter from the Map (also after the Map was filled from a snapshot). */
  rebuild(): void {
    const listed = this.source();
    let size = MIN_BITS;
    while (size < listed.size * BITS_PER_ENTRY * 2) size *= 2;
    this.bits = new Uint32Array(size >>> 5);
    this.mask = size - 1;
    for (const k of listed.keys()) this.set(hashFromRight(k, 0));
    this.added = listed.size;
    this.removed = 0;
  }
}

export const HASH_SEED = 0x811c9dc5;

/** One FNV-1a step over a character, right to left: hash(c + s) = step(hash(s), c). */
export function step(h: number, c: number): number {
  return Math.imul(h ^ c, 0x01000193) >>> 0;
}

export function hashFromRight(s: string, start: number): number {
  let h = HASH_SEED;
  for (let i = s.length - 1; i >= start; i--) h = step(h, s.charCodeAt(i));
  return h;
}
