/**
 * A Map that holds more entries than one JavaScript Map can. V8 caps a Map (and a Set) at
 * 2^24 = 16,777,216 entries and throws `RangeError: Map maximum size exceeded` past it, so an
 * index keyed per value (one entry per listed IP, domain or hash) would stop at that size.
 *
 * The entries are spread over shards of at most `shardLimit` each. A key lives in exactly one
 * shard; a new key goes to the first shard with room. While there is one shard (every store up to
 * `shardLimit` entries of a kind) a call is one Map call; with k shards, a miss costs k probes.
 * Shards stay at most 2^23 entries by default, so that no single Map ever rehashes a table of
 * 2^24 (a pause of seconds and a transient copy of the whole table).
 */
export const MAP_ENTRY_LIMIT = 2 ** 24;
export const DEFAULT_SHARD_ENTRIES = 2 ** 23;

/** The calls the indexes make on their keyed maps: a Map and a ShardedMap both provide them. */
export interface KeyedMap<K, V> extends Iterable<[K, V]> {
  readonly size: number;
  get(key: K): V | undefined;
  has(key: K): boolean;
  set(key: K, value: V): unknown;
  delete(key: K): boolean;
  keys(): Iterable<K>;
}

export class ShardedMap<K, V> implements KeyedMap<K, V> {
  private first = new Map<K, V>();
  private shards: Map<K, V>[] = [this.first];
  private count = 0;

  constructor(readonly shardLimit: number = DEFAULT_SHARD_ENTRIES) {
    if (!(Number.isInteger(shardLimit) && shardLimit >= 1 && shardLimit <= MAP_ENTRY_LIMIT))
      throw new RangeError(`shard limit ${shardLimit} is outside 1..${MAP_ENTRY_LIMIT}`);
  }

  get size(): number {
    return this.count;
  }

  /** How many Maps hold the entries (for tests and memory reports). */
  get shardCount(): number {
    return this.shards.length;
  }

  /** Entries per shard, first to last (for tests and memory reports). */
  shardSizes(): number[] {
    return this.shards.map((s) => s.size);
  }

  get(key: K): V | undefined {
    const shards = this.shards;
    if (shards.length === 1) return this.first.get(key);
    for (const s of shards) {
      const v = s.get(key);
      if (v !== undefined || s.has(key)) return v;
    }
    return undefined;
  }

  has(key: K): boolean {
    for (const s of this.shards) if (s.has(key)) return true;
    return false;
  }

  set(key: K, value: V): this {
    const shards = this.shards;
    if (shards.length === 1 && this.first.size < this.shardLimit) {
      // one shard with room: one Map call, as for a plain Map
      const before = this.first.size;
      this.first.set(key, value);
      this.count += this.first.size - before;
      return this;
    }
    for (const s of shards) {
      if (s.has(key)) {
        s.set(key, value);
        return this;
      }
    }
    let room = shards.find((s) => s.size < this.shardLimit);
    if (!room) {
      room = new Map();
      shards.push(room);
    }
    room.set(key, value);
    this.count++;
    return this;
  }

  delete(key: K): boolean {
    const shards = this.shards;
    let i = 0;
    for (const s of shards) {
      if (s.delete(key)) {
        this.count--;
        // an emptied shard other than the last one standing is dropped, so lookups stop probing it
        if (s.size === 0 && shards.length > 1) this.drop(i);
        return true;
      }
      i++;
    }
    return false;
  }

  clear(): void {
    this.first = new Map();
    this.shards = [this.first];
    this.count = 0;
  }

  /** Removes the shard at `i` (there is another one left); `first` follows the list. */
  private drop(i: number): void {
    this.shards.splice(i, 1);
    const [head] = this.shards;
    if (head) this.first = head;
  }

  *keys(): IterableIterator<K> {
    for (const s of this.shards) yield* s.keys();
  }

  *values(): IterableIterator<V> {
    for (const s of this.shards) yield* s.values();
  }

  *entries(): IterableIterator<[K, V]> {
    for (const s of this.shards) yield* s.entries();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }
}
