/** CIDR entries of warninglists and allowlists: parsing, and the table of listed ranges. */
import { parseIpv4Range, parseIpv6Range, parsePrefix, maskIpv4, maskIpv6 } from '../core/ip-address.js';
import { ipv4Key, ipv4Prefixes, ipv6Key, ipv6Prefixes } from '../core/prefix-maps.js';
import type { KeyedMap } from '../core/sharded-map.js';

/** A reference to one list entry: the list's index and the entry as written in the list. */
export interface EntryRef {
  list: number;
  entry: string;
}

export type ParsedCidr = { v: 4; net: number; len: number } | { v: 6; words: Uint16Array; len: number };

/** `1.2.3.4`, `1.2.3.0/24`, `2001:db8::/32`, `FE80::1` → network and prefix length; undefined when invalid. */
export function parseCidr(text: string): ParsedCidr | undefined {
  const s = text.trim();
  const slash = s.indexOf('/');
  const end = slash < 0 ? s.length : slash;
  const v4 = parseIpv4Range(s, 0, end);
  if (v4 !== undefined) {
    const len = slash < 0 ? 32 : parsePrefix(s, slash + 1, s.length, 32);
    return len < 0 ? undefined : { v: 4, net: maskIpv4(v4, len), len };
  }
  const words = parseIpv6Range(s, 0, end);
  if (!words) return undefined;
  const len = slash < 0 ? 128 : parsePrefix(s, slash + 1, s.length, 128);
  if (len < 0) return undefined;
  maskIpv6(words, len);
  return { v: 6, words, len };
}

/** Ranges of warninglist entries (src/core/prefix-maps.ts): the entries listing each network. */
export class PrefixTable {
  private readonly v4 = ipv4Prefixes<EntryRef[]>();
  private readonly v6 = ipv6Prefixes<EntryRef[]>();
  size = 0;

  add(c: ParsedCidr, ref: EntryRef): void {
    if (c.v === 4) push(this.v4.mapOf(c.len), ipv4Key(c.net, c.len), ref);
    else push(this.v6.mapOf(c.len), ipv6Key(c.words, c.len), ref);
    this.size++;
  }

  /** Entries whose range contains the address or the whole range `c`, most specific first. */
  containing(c: ParsedCidr, visit: (ref: EntryRef) => void): void {
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
