/**
 * Prefix tables for CIDR warninglists: per prefix length, a Map from the masked network to the
 * entries listing it. "Which listed ranges contain this address (or this whole range)" is one
 * probe per prefix length in use, at most 33 (IPv4) or 129 (IPv6).
 */
import { parseIpv4Range, parseIpv6Range, parsePrefix, maskIpv4, maskIpv6 } from '../core/ip-address.js';

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

function v6Key(w: Uint16Array, len: number): string {
  // only the words the prefix covers, so that keys stay short
  const n = Math.ceil(len / 16);
  let k = '';
  for (let i = 0; i < n; i++) {
    const bits = len - i * 16;
    const word = bits >= 16 ? w[i] : w[i] & ((0xffff << (16 - bits)) & 0xffff);
    k += word.toString(16) + ':';
  }
  return k;
}

function activeLens(byLen: (Map<unknown, EntryRef[]> | undefined)[]): number[] {
  const out: number[] = [];
  for (let l = byLen.length - 1; l >= 0; l--) if (byLen[l]) out.push(l);
  return out;
}

export class PrefixTable {
  private readonly v4: (Map<number, EntryRef[]> | undefined)[] = new Array(33).fill(undefined);
  private readonly v6: (Map<string, EntryRef[]> | undefined)[] = new Array(129).fill(undefined);
  private v4Lens: number[] = [];
  private v6Lens: number[] = [];
  size = 0;

  add(c: ParsedCidr, ref: EntryRef): void {
    if (c.v === 4) {
      let m = this.v4[c.len];
      if (!m) this.v4[c.len] = m = new Map();
      push(m, c.net >>> 0, ref);
    } else {
      let m = this.v6[c.len];
      if (!m) this.v6[c.len] = m = new Map();
      push(m, v6Key(c.words, c.len), ref);
    }
    this.size++;
  }

  /** Call after the last add. */
  seal(): void {
    this.v4Lens = activeLens(this.v4);
    this.v6Lens = activeLens(this.v6);
  }

  /** Entries whose range contains the address or the whole range `c`, most specific first. */
  containing(c: ParsedCidr, visit: (ref: EntryRef) => void): void {
    if (c.v === 4) {
      for (const len of this.v4Lens) {
        if (len > c.len) continue;
        const refs = this.v4[len]!.get(maskIpv4(c.net, len) >>> 0);
        if (refs) for (const r of refs) visit(r);
      }
    } else {
      for (const len of this.v6Lens) {
        if (len > c.len) continue;
        const refs = this.v6[len]!.get(v6Key(c.words, len));
        if (refs) for (const r of refs) visit(r);
      }
    }
  }
}

function push<K>(m: Map<K, EntryRef[]>, key: K, ref: EntryRef): void {
  const refs = m.get(key);
  if (!refs) m.set(key, [ref]);
  else if (!refs.some((r) => r.list === ref.list)) refs.push(ref); // one entry per list and range
}
