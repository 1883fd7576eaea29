/**
 * IP ranges written as text (`10.0.0.0/8`, `2001:db8::/32`, a bare address): the one set of rules
 * every caller reads them by (observables, allowlists and warninglists, the lookup index, search,
 * correlation keys, server networks, the SSRF deny list, sink value checks, RDAP bootstrap).
 *
 * - An address without a prefix is the range of that one address (/32 or /128).
 * - A prefix length is decimal without sign or leading zeros, 0 to 32 (IPv4) or 0 to 128 (IPv6).
 * - Host bits after the prefix are cleared: `10.1.2.3/8` is `10.0.0.0/8`.
 * - An IPv4-mapped IPv6 range (`::ffff:a.b.c.d/n`, n ≥ 96, RFC 4291 §2.5.5.2) is the IPv4 range
 *   `a.b.c.d/(n - 96)`; a bare mapped address is that IPv4 address.
 * - Nothing else is accepted: no white space, zone ids, brackets or shortened dotted quads.
 */
import {
  formatIpv4,
  formatIpv6,
  ipv4Mapped,
  maskIpv4,
  maskIpv6,
  parseIpv4Range,
  parseIpv6Range,
  parsePrefix,
} from './ip-address.js';
import { ipv4Key, ipv4Prefixes, ipv6Key, ipv6Prefixes } from './prefix-maps.js';
import type { ShardedMap } from './sharded-map.js';

/** A network: its address with the host bits cleared, and its prefix length. */
export type Cidr = { v: 4; net: number; len: number } | { v: 6; words: Uint16Array; len: number };

/** A range read from text, or why not: which part is wrong and at which character (0-based). */
export type CidrRead =
  | { ok: true; cidr: Cidr }
  | { ok: false; part: 'address' | 'prefix'; at: number; message: string };

/** Reads an address or CIDR by the rules above; a refusal names the part and its position. */
export function readCidr(text: string): CidrRead {
  const slash = text.indexOf('/');
  const end = slash < 0 ? text.length : slash;
  const v4 = parseIpv4Range(text, 0, end);
  if (v4 !== undefined) {
    const len = slash < 0 ? 32 : parsePrefix(text, slash + 1, text.length, 32);
    if (len < 0) return badPrefix(slash, 32);
    return { ok: true, cidr: { v: 4, net: maskIpv4(v4, len), len } };
  }
  const words = parseIpv6Range(text, 0, end);
  if (!words) return { ok: false, part: 'address', at: 0, message: 'the address is neither IPv4 nor IPv6' };
  const len = slash < 0 ? 128 : parsePrefix(text, slash + 1, text.length, 128);
  if (len < 0) return badPrefix(slash, 128);
  const mapped = ipv4Mapped(words);
  if (mapped !== undefined && len >= 96)
    return { ok: true, cidr: { v: 4, net: maskIpv4(mapped, len - 96), len: len - 96 } };
  maskIpv6(words, len);
  return { ok: true, cidr: { v: 6, words, len } };
}

function badPrefix(slash: number, max: number): CidrRead {
  return {
    ok: false,
    part: 'prefix',
    at: slash + 1,
    message: `the prefix length is not a whole number from 0 to ${max}`,
  };
}

/** readCidr without the reason: the range, or undefined when the text is not one. */
export function parseCidr(text: string): Cidr | undefined {
  const r = readCidr(text);
  return r.ok ? r.cidr : undefined;
}

/** True for a range written with its prefix length (`10.0.0.0/8`, not a bare address). */
export const isCidrText = (text: string): boolean => text.includes('/') && parseCidr(text) !== undefined;

/** Why text is not an address or CIDR, located (`…, at character 10`), or undefined when it is one. */
export function cidrProblem(text: string): string | undefined {
  const r = readCidr(text);
  return r.ok ? undefined : `${r.message}, at character ${r.at + 1}`;
}

/** The bits of a range's address family: 32 or 128. */
export const cidrBits = (c: Cidr): 32 | 128 => (c.v === 4 ? 32 : 128);

/** `net/len`, with the network in canonical form (RFC 5952 for IPv6). */
export function formatCidr(c: Cidr): string {
  return `${c.v === 4 ? formatIpv4(c.net) : formatIpv6(c.words)}/${c.len}`;
}

/** The canonical observable value of a range: the address alone for one address, else `net/len`. */
export function cidrValue(c: Cidr): string {
  if (c.len < cidrBits(c)) return formatCidr(c);
  return c.v === 4 ? formatIpv4(c.net) : formatIpv6(c.words);
}

/** The range of length `len` that contains `c` (`len` at most c's own length). */
export function widen(c: Cidr, len: number): Cidr {
  if (c.v === 4) return { v: 4, net: maskIpv4(c.net, len), len };
  const words = c.words.slice();
  maskIpv6(words, len);
  return { v: 6, words, len };
}

/** True when `inner` (an address or a range) lies wholly inside `outer`; never across families. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (inner.len < outer.len) return false;
  if (outer.v === 4) return inner.v === 4 && maskIpv4(inner.net, outer.len) === outer.net;
  if (inner.v !== 6) return false;
  const w = inner.words.slice();
  maskIpv6(w, outer.len);
  return w.every((x, i) => x === outer.words[i]);
}

/** The last address of an IPv4 range. */
export function lastIpv4(net: number, len: number): number {
  return len === 0 ? 0xffffffff : net + 2 ** (32 - len) - 1;
}

/** The last address of an IPv6 range (host bits set), as eight words. */
export function lastIpv6(words: Uint16Array, len: number): Uint16Array {
  const out = words.slice();
  for (let i = 0; i < 8; i++) {
    const keep = len - i * 16;
    if (keep < 16) out[i] = (out[i] ?? 0) | (keep <= 0 ? 0xffff : 0xffff >>> keep);
  }
  return out;
}

/**
 * A table of ranges with a value each: which listed range holds an address or a whole range,
 * most specific first (src/core/prefix-maps.ts: one Map probe per prefix length in use).
 */
export class CidrTable<V> {
  private readonly v4 = ipv4Prefixes<V>();
  private readonly v6 = ipv6Prefixes<V>();
  size = 0;

  /** Lists a range with its value (a range listed again keeps its first value). */
  add(c: Cidr, value: V): void {
    const added =
      c.v === 4
        ? setNew(this.v4.mapOf(c.len), ipv4Key(c.net, c.len), value)
        : setNew(this.v6.mapOf(c.len), ipv6Key(c.words, c.len), value);
    if (added) this.size++;
  }

  /** The value of the most specific listed range containing `c`, or undefined. */
  longest(c: Cidr): V | undefined {
    let found: V | undefined;
    const take = (v: V): void => {
      if (found === undefined) found = v;
    };
    if (c.v === 4) this.v4.containing(c.net, c.len, take);
    else this.v6.containing(c.words, c.len, take);
    return found;
  }

  /** True when a listed range contains `c`. */
  has(c: Cidr): boolean {
    return this.longest(c) !== undefined;
  }
}

function setNew<K, V>(m: ShardedMap<K, V>, key: K, value: V): boolean {
  if (m.has(key)) return false;
  m.set(key, value);
  return true;
}

/** A table of fixed ranges (written in code or validated configuration); throws on text that is not one. */
export function cidrSet(texts: readonly string[]): CidrTable<true> {
  const t = new CidrTable<true>();
  for (const text of texts) {
    const c = parseCidr(text);
    if (!c) throw new Error(`invalid CIDR "${text}": ${cidrProblem(text)}`);
    t.add(c, true);
  }
  return t;
}
