/** CIDR entries of warninglists and allowlists: the table of listed ranges (read by src/core/cidr.ts). */
import type { Cidr } from '../core/cidr.js';
import { ipv4Key, ipv4Prefixes, ipv6Key, ipv6Prefixes } from '../core/prefix-maps.js';
import type { KeyedMap } from '../core/sharded-map.js';

/** A reference to one list entry: the list's index and the entry as written in the list. */
export interface EntryRef {
  list: number;
  entry: string;
}

/** Ranges of warninglist entries (src/core/prefix-maps.ts): the entries listing each network. */
export class PrefixTable {
  private readonly v4 = ipv4Prefixes<EntryRef[]>();
  private readonly v6 = ipv6Prefixes<EntryRef[]>();
  size = 0;

  add(c: Cidr, ref: EntryRef): void {
    if (c.v === 4) push(this.v4.mapOf(c.len), ipv4Key(c.net, c.len), ref);
    else push(this.v6.mapOf(c.len), ipv6Key(c.words, c.len), ref);
    this.size++;
  }

  /** Entries whose range contains the address or the whole range `c`, most specific first. */
  containing(c: Cidr, visit: (ref: EntryRef) => void): void {
    const each = (refs: EntryRef[]): void => {
      for (const r of refs) visit(r);
    };
    if (c.v === 4) this.v4.containing(c.net, c.len, each);
    else this.v6.containing(c.words, c.len, each);
  }
}

function push<K>(m: KeyedMap<K, EntryRef[]>, key: K, ref: EntryRef): void {
  const refs = m.get(key);
  if (!refs) m.set(key, [ref]);
  else if (!refs.some((r) => r.list === ref.list)) refs.push(ref); // one entry per list and range
}
