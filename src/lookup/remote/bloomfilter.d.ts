/** Types of the `bloomfilter` package (1.1.x ships none). */
declare module 'bloomfilter' {
  export class BloomFilter {
    /** `m` bits (rounded up to 32), or the buckets of a filter to load; `k` hash functions. */
    constructor(m: number | ArrayLike<number>, k: number);
    readonly m: number;
    readonly k: number;
    readonly buckets: Uint32Array;
    add(v: string): void;
    test(v: string): boolean;
  }
}
