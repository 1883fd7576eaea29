/**
 * Prefix tables for IP ranges: per prefix length, a Map (sharded past V8's Map size limit) from the
 * masked network to a value.
 * "Which listed ranges contain this address (or this whole range)" is one Map probe per prefix
 * length in use, longest first: at most 33 probes for IPv4, 129 for IPv6. The lookup index and the
 * warninglist matcher (warninglists, publish and ingest allowlists) keep their ranges in these.
 */
import { maskIpv4 } from './ip-address.js';
import { DEFAULT_SHARD_ENTRIES, ShardedMap } from './sharded-map.js';

/** The key of an IPv4 network: the masked address as a signed 32-bit integer (a small integer in V8). */
export function ipv4Key(addr: number, len: number): number {
  return maskIpv4(addr, len) | 0;
}

/** The key of an IPv6 network: the hex words the prefix covers, the last one masked. */
export function ipv6Key(words: Uint16Array, len: number): string {
  let out = '';
  const full = len >>> 4;
  // len <= 128, so the words read (0 .. full, the last only when a partial word remains) are all within the eight
  for (let i = 0; i < full; i++) out += `${words[i]!.toString(16)}:`;
  const rest = len & 15;
  if (rest) out += (words[full]! & (0xffff << (16 - rest)) & 0xffff).toString(16);
  return out;
}

export class PrefixMaps<A, K, V> {
  private readonly byLen: (ShardedMap<K, V> | undefined)[];
  /** Prefix lengths in use, longest first. */
  private lens: number[] = [];

  constructor(
    readonly bits: 32 | 128,
    readonly keyOf: (addr: A, len: number) => K,
    /** Entries per Map of one prefix length (src/core/sharded-map.ts); tests lower it. */
    readonly shardLimit: number = DEFAULT_SHARD_ENTRIES,
  ) {
    this.byLen = new Array(bits + 1).fill(undefined);
  }

  /** The map of one prefix length, created when absent. */
  mapOf(len: number): ShardedMap<K, V> {
    let m = this.byLen[len];
    if (!m) {
      m = new ShardedMap(this.shardLimit);
      this.byLen[len] = m;
      this.lens = this.active();
    }
    return m;
  }

  /** The map of one prefix length if it exists. */
  existing(len: number): ShardedMap<K, V> | undefined {
    return this.byLen[len];
  }

  /** Forgets the map of one prefix length once it is empty (so that lookups stop probing it). */
  dropIfEmpty(len: number): void {
    if (this.byLen[len]?.size === 0) {
      this.byLen[len] = undefined;
      this.lens = this.active();
    }
  }

  /** Calls `visit` with each prefix length in use and its map, longest first. */
  forEachLength(visit: (len: number, map: ShardedMap<K, V>) => void): void {
    for (const len of this.lens) {
      const m = this.byLen[len];
      if (m) visit(len, m);
    }
  }

  /** Calls `visit` for each listed network of length ≤ `maxLen` containing `addr`, longest first. */
  containing(addr: A, maxLen: number, visit: (value: V, key: K, len: number) => void): void {
    for (const len of this.lens) {
      if (len > maxLen) continue;
      const key = this.keyOf(addr, len);
      const v = this.byLen[len]!.get(key);
      if (v !== undefined) visit(v, key, len);
    }
  }

  private active(): number[] {
    const out: number[] = [];
    for (let len = this.bits; len >= 0; len--) if (this.byLen[len]) out.push(len);
    return out;
  }
}

export const ipv4Prefixes = <V>(shardLimit?: number): PrefixMaps<number, number, V> =>
  new PrefixMaps(32, ipv4Key, shardLimit);
export const ipv6Prefixes = <V>(shardLimit?: number): PrefixMaps<Uint16Array, string, V> =>
  new PrefixMaps(128, ipv6Key, shardLimit);
