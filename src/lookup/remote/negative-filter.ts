import { parseCidr } from '../../core/cidr.js';
import { BloomFilter } from 'bloomfilter';

/** The filter's size: how many distinct values it is built for and the false-positive rate at that count. */
export interface FilterShape {
  capacity: number;
  fpRate: number;
}

/** Bits and hash functions of a Bloom filter holding `capacity` values at `fpRate` (m = -n ln p / ln² 2, k = m/n ln 2). */
export function filterGeometry(s: FilterShape): { bits: number; hashes: number } {
  const bits = Math.ceil((-s.capacity * Math.log(s.fpRate)) / (Math.LN2 * Math.LN2) / 32) * 32;
  return { bits, hashes: Math.max(1, Math.round((bits / s.capacity) * Math.LN2)) };
}

/**
 * The in-process negative filter of the remote lookups (docs/adr/0024-remote-lookups.md): a Bloom
 * filter over every canonical value an active indicator lists, plus which CIDR prefix lengths are
 * listed at all. "Not in the filter" means no indicator lists the value, so a miss is answered
 * without asking the store; "maybe" sends the value's candidates to the store. Its memory is fixed
 * by the shape, whatever the store holds: past `capacity` values only the false-positive rate
 * rises. Values are never removed (a Bloom filter cannot): a revoked or expired value costs a
 * round trip until the filter is rebuilt (`stale` counts them).
 */
export class NegativeFilter {
  private readonly bloom: BloomFilter;
  /** Values added that the filter did not already (maybe) hold: about the distinct values. */
  added = 0;
  /** Values whose indicator left (revoked, expired, replaced) since the filter was built. */
  stale = 0;
  /** IPv4 / IPv6 prefix lengths some listed CIDR has (1 = listed): lookups probe only these. */
  readonly v4Lengths = new Uint8Array(33);
  readonly v6Lengths = new Uint8Array(129);

  constructor(
    readonly shape: FilterShape,
    buckets?: Uint32Array,
  ) {
    const g = filterGeometry(shape);
    if (buckets !== undefined && buckets.length * 32 !== g.bits)
      throw new RangeError(`filter of ${buckets.length * 32} bits, ${g.bits} expected for its shape`);
    this.bloom = new BloomFilter(g.bits, g.hashes);
    // a plain copy (the package's own loader checks every word, 5× slower)
    if (buckets !== undefined) this.bloom.buckets.set(buckets);
  }

  /** Adds a canonical value (a CIDR value records its prefix length too). */
  add(type: string, value: string): void {
    const range = (type === 'ipv4-addr' || type === 'ipv6-addr') && value.includes('/') ? parseCidr(value) : undefined;
    if (range) (range.v === 4 ? this.v4Lengths : this.v6Lengths)[range.len] = 1;
    if (this.bloom.test(value)) return;
    this.bloom.add(value);
    this.added++;
  }

  /** False when no listed value is `value`; true when one may be (or a false positive). */
  mightHave(value: string): boolean {
    return this.bloom.test(value);
  }

  /** The expected false-positive rate at the current fill (1 - e^(-kn/m))^k. */
  expectedFpRate(): number {
    const { m, k } = this.bloom;
    return (1 - Math.exp((-k * this.added) / m)) ** k;
  }

  /** The bit array (for the snapshot). */
  get buckets(): Uint32Array {
    return this.bloom.buckets;
  }

  /** Bytes held by the bit array. */
  get bytes(): number {
    return this.bloom.buckets.byteLength;
  }
}
