import { ipv4Prefixes, ipv4Key, ipv6Prefixes, ipv6Key } from '../core/prefix-maps.js';
import { addPosting, removePosting, type Posting } from './postings.js';
import { ShardedMap } from '../core/sharded-map.js';

/** IPv4 ranges of the lookup index: the slots listing each network (src/core/prefix-maps.ts). */
export class Ipv4Ranges {
  private readonly t: ReturnType<typeof ipv4Prefixes<Posting>>;
  size = 0;

  constructor(shardLimit?: number) {
    this.t = ipv4Prefixes<Posting>(shardLimit);
  }

  add(network: number, len: number, slot: number): number {
    const m = this.t.mapOf(len);
    const key = ipv4Key(network, len);
    const before = m.size;
    addPosting(m, key, slot);
    this.size += m.size - before;
    return key;
  }

  remove(key: number, len: number, slot: number): void {
    const m = this.t.existing(len);
    if (!m) return;
    const before = m.size;
    removePosting(m, key, slot);
    this.size -= before - m.size;
    this.t.dropIfEmpty(len);
  }

  /** Every listed network: for the lookup snapshot. */
  forEach(visit: (len: number, key: number, p: Posting) => void): void {
    this.t.forEachLength((len, m) => {
      for (const [key, p] of m) visit(len, key, p);
    });
  }

  /** Lists a network read from a snapshot (whole posting at once). */
  restore(len: number, key: number, p: Posting): void {
    const m = this.t.mapOf(len);
    if (!m.has(key)) this.size++;
    m.set(key, p);
  }

  /** Calls `visit(slotPosting, network, len)` for each listed range of length ≤ `maxLen` containing `ip`. */
  containing(ip: number, visit: (p: Posting, network: number, len: number) => void, maxLen = 32): void {
    this.t.containing(ip, maxLen, visit);
  }
}

/** IPv6 ranges of the lookup index, with the canonical CIDR text of each for `matched_value`. */
export class Ipv6Ranges {
  private readonly t: ReturnType<typeof ipv6Prefixes<Posting>>;
  /** `len/key` → the canonical CIDR text. */
  private readonly text: ShardedMap<string, string>;
  size = 0;

  constructor(shardLimit?: number) {
    this.t = ipv6Prefixes<Posting>(shardLimit);
    this.text = new ShardedMap(shardLimit);
  }

  add(words: Uint16Array, len: number, value: string, slot: number): string {
    const m = this.t.mapOf(len);
    const key = ipv6Key(words, len);
    const before = m.size;
    addPosting(m, key, slot);
    if (m.size > before) {
      this.size++;
      this.text.set(`${len}/${key}`, value);
    }
    return key;
  }

  remove(key: string, len: number, slot: number): void {
    const m = this.t.existing(len);
    if (!m) return;
    const before = m.size;
    removePosting(m, key, slot);
    if (m.size < before) {
      this.size--;
      this.text.delete(`${len}/${key}`);
    }
    this.t.dropIfEmpty(len);
  }

  /** Every listed network with its CIDR text: for the lookup snapshot. */
  forEach(visit: (len: number, key: string, text: string, p: Posting) => void): void {
    this.t.forEachLength((len, m) => {
      for (const [key, p] of m) visit(len, key, this.text.get(`${len}/${key}`) ?? key, p);
    });
  }

  /** Lists a network read from a snapshot (whole posting at once). */
  restore(len: number, key: string, text: string, p: Posting): void {
    const m = this.t.mapOf(len);
    if (!m.has(key)) this.size++;
    m.set(key, p);
    this.text.set(`${len}/${key}`, text);
  }

  /** Calls `visit(slotPosting, cidrText)` for each listed range of length ≤ `maxLen` containing `ip`. */
  containing(ip: Uint16Array, visit: (p: Posting, value: string) => void, maxLen = 128): void {
    this.t.containing(ip, maxLen, (p, key, len) => visit(p, this.text.get(`${len}/${key}`) ?? key));
  }
}
