import type { ObservableType, StixObject } from '../core/stix.js';
import { normaliseHash, normaliseObservable, parseIpv4 } from '../core/observable.js';
import { cidrBits, cidrValue, lastIpv4, lastIpv6, parseCidr, widen } from '../core/cidr.js';
import { indicatorObservables } from '../core/object-observables.js';
import { at } from '../core/indexed.js';

/**
 * Canonical value keys of objects, and the parsed forms the derivations index: an IPv4/IPv6
 * address as a number/bytes (range scans for "inside a CIDR"), a CIDR as network + prefix length,
 * a URL's host as reversed labels (prefix scans for "URL on a listed domain").
 *
 * A value key is `<observable type>:<canonical value>`, e.g. `ipv4-addr:198.51.100.7`,
 * `ipv4-addr:198.51.100.0/24`, `file:<lower-case hex>`.
 */

const VALUE_SCOS = new Set(['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr']);
const HASH_SCOS = new Set(['file', 'x509-certificate']);

/** The distinct value keys an object stands for: an indicator's STIX pattern, an SCO's value or hashes. */
export function valueKeysOf(obj: StixObject): string[] {
  const out = new Set<string>();
  if (obj.type === 'indicator') {
    for (const o of indicatorObservables(obj)) out.add(`${o.type}:${o.value}`);
  } else if (VALUE_SCOS.has(obj.type)) {
    if (typeof obj.value === 'string') {
      const r = normaliseObservable(obj.type as ObservableType, obj.value);
      if (r.ok) out.add(`${r.observable.type}:${r.observable.value}`);
    }
  } else if (HASH_SCOS.has(obj.type)) {
    const hashes = obj.hashes;
    if (hashes && typeof hashes === 'object') {
      for (const h of Object.values(hashes as Record<string, unknown>)) {
        if (typeof h !== 'string') continue;
        const r = normaliseHash(obj.type as 'file' | 'x509-certificate', h);
        if (r.ok) out.add(`${r.observable.type}:${r.observable.value}`);
      }
    }
  }
  return [...out];
}

export function splitKey(key: string): { type: string; value: string } {
  const i = key.indexOf(':');
  return { type: key.slice(0, i), value: key.slice(i + 1) };
}

/** An IPv6 address as 16 big-endian bytes (byte order = numeric order, so SQLite BLOB ranges work). */
export function ipv6Bytes(words: Uint16Array): Buffer {
  const b = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) b.writeUInt16BE(at(words, i), i * 2); // an address is always eight words
  return b;
}

export type ParsedValue =
  | { kind: 'ip4'; addr: number }
  | { kind: 'ip6'; addr: Buffer }
  | { kind: 'cidr4'; lo: number; hi: number; len: number }
  | { kind: 'cidr6'; lo: Buffer; hi: Buffer; len: number }
  | { kind: 'domain'; rhost: string }
  | { kind: 'url'; host?: string; rhost?: string }
  | { kind: 'other' };

/** What the derivations need to know about a value key. Values are canonical already. */
export function parseValueKey(key: string): ParsedValue {
  const { type, value } = splitKey(key);
  switch (type) {
    case 'ipv4-addr':
    case 'ipv6-addr': {
      const c = parseCidr(value);
      if (!c || (c.v === 4) !== (type === 'ipv4-addr')) return { kind: 'other' };
      const whole = c.len === cidrBits(c);
      if (c.v === 4)
        return whole
          ? { kind: 'ip4', addr: c.net }
          : { kind: 'cidr4', lo: c.net, hi: lastIpv4(c.net, c.len), len: c.len };
      const lo = ipv6Bytes(c.words);
      return whole
        ? { kind: 'ip6', addr: lo }
        : { kind: 'cidr6', lo, hi: ipv6Bytes(lastIpv6(c.words, c.len)), len: c.len };
    }
    case 'domain-name':
      return { kind: 'domain', rhost: reverseHost(value) };
    case 'url': {
      const host = hostOfUrl(value);
      return host === undefined ? { kind: 'url' } : { kind: 'url', host, rhost: reverseHost(host) };
    }
    default:
      return { kind: 'other' };
  }
}

/** The value key of the network of `addr` at prefix length `len` (the form a listed CIDR has). */
export function cidr4Key(addr: number, len: number): string {
  return `ipv4-addr:${cidrValue(widen({ v: 4, net: addr, len: 32 }, len))}`;
}

export function cidr6Key(addr: Buffer, len: number): string {
  const words = new Uint16Array(8);
  for (let i = 0; i < 8; i++) words[i] = addr.readUInt16BE(i * 2);
  return `ipv6-addr:${cidrValue(widen({ v: 6, words, len: 128 }, len))}`;
}

/** `www.example.com` → `com.example.www.`: a domain's subdomains share its reversed form as a prefix. */
export function reverseHost(host: string): string {
  return `${host.split('.').reverse().join('.')}.`;
}

/**
 * The host name of a canonical URL, or undefined when the host is an IP literal or absent.
 * Canonical URLs have a lower-case scheme and host (IDNA applied), so no decoding is needed.
 */
export function hostOfUrl(url: string): string | undefined {
  const sep = url.indexOf('://');
  if (sep < 0) return undefined;
  const start = sep + 3;
  let end = url.length;
  for (let i = start; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 || c === 63 || c === 35) {
      end = i;
      break;
    }
  }
  let auth = url.slice(start, end);
  const at = auth.lastIndexOf('@');
  if (at >= 0) auth = auth.slice(at + 1);
  if (auth.startsWith('[')) return undefined; // IPv6 literal
  const colon = auth.lastIndexOf(':');
  if (colon >= 0) auth = auth.slice(0, colon);
  if (auth.endsWith('.')) auth = auth.slice(0, -1);
  if (auth.length === 0 || parseIpv4(auth) !== undefined) return undefined;
  return auth;
}

/** The host and its parent domains, longest first: `a.b.example.com` → itself, `b.example.com`, `example.com`, `com`. */
export function hostSuffixes(host: string): string[] {
  const out = [host];
  for (let i = host.indexOf('.'); i >= 0; i = host.indexOf('.', i + 1)) out.push(host.slice(i + 1));
  return out;
}
