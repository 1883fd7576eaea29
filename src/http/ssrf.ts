import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { cidrSet, parseCidr, type Cidr } from '../core/cidr.js';
import { group } from '../core/indexed.js';
import { parseIpv4 } from '../core/ip-address.js';

/** What the SSRF policy needs from the HTTP policy. */
export interface UrlPolicy {
  allowPrivate: boolean;
  allowInsecure: boolean;
}

/** Resolves a host name to every address it has (injectable for tests). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

/** Loopback, private, link-local, shared, multicast and reserved ranges. */
const DENIED = cidrSet([
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
  'fec0::/10',
  'ff00::/8',
]);
const NAT64 = cidrSet(['64:ff9b::/96']);
const SIX_TO_FOUR = cidrSet(['2002::/16']);

/** The IPv4 address two words of an IPv6 address carry. */
const embeddedV4 = (hi: number | undefined, lo: number | undefined): Cidr => ({
  v: 4,
  net: (hi ?? 0) * 65536 + (lo ?? 0),
  len: 32,
});

/**
 * True when an IP address (v4 or v6 text, brackets allowed) lies in a loopback, private,
 * link-local, shared, multicast or reserved range, including v4 ranges embedded in IPv4-mapped,
 * NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses. Text that is not a canonical address is
 * denied (fail closed).
 */
export function isDeniedAddress(ip: string): boolean {
  let text = ip.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  if (text.includes('/')) return true; // a range, not an address
  const a = parseCidr(text); // zone ids (`%eth0`) and any other form are refused: denied
  if (!a) return true;
  if (a.v === 6 && NAT64.has(a)) return DENIED.has(embeddedV4(a.words[6], a.words[7]));
  if (a.v === 6 && SIX_TO_FOUR.has(a)) return DENIED.has(embeddedV4(a.words[1], a.words[2]));
  return DENIED.has(a); // an IPv4-mapped address reads as its IPv4 address (src/core/cidr.ts)
}

/** The host exactly as written in the URL text (before WHATWG normalisation), lower-cased. */
function rawHost(url: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#\\]*)/i.exec(url.trim());
  if (!m) return undefined;
  let authority = group(m, 1);
  const userEnd = authority.lastIndexOf('@');
  if (userEnd >= 0) authority = authority.slice(userEnd + 1);
  if (authority.startsWith('[')) return authority.slice(0, authority.indexOf(']') + 1).toLowerCase();
  const colon = authority.lastIndexOf(':');
  return (colon >= 0 ? authority.slice(0, colon) : authority).toLowerCase();
}

/** A URL's text safe for messages and logs: no userinfo, no query values, no fragment. */
export function redactUrl(url: string | URL): string {
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * Checks a URL against the SSRF policy without touching the network. Returns a human-readable
 * reason when the URL is refused, undefined when it may be fetched. Host names are checked again
 * at connect time against the addresses they resolve to (see `guardedLookup`).
 */
export function checkUrl(url: string, policy: UrlPolicy): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a valid URL';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return `scheme ${u.protocol} is not allowed`;
  if (u.protocol === 'http:' && !policy.allowInsecure) return 'plain http:// is not allowed';
  if ((u.username || u.password) && !policy.allowInsecure) return 'credentials in the URL (user:pass@) are not allowed';
  if (policy.allowPrivate) return undefined;
  const host = u.hostname.toLowerCase();
  if (host === '') return 'URL has no host';
  const isV6 = host.startsWith('[');
  const isV4 = parseIpv4(host) !== undefined;
  if (isV4 || isV6) {
    const raw = rawHost(url);
    // WHATWG parsing turns 0x7f.1, 2130706433, 017700000001, 127.1 and full-width digits into a
    // dotted quad: anything not written as a canonical address is an obfuscation attempt.
    if (isV4 && raw !== host) return `IP address written in a non-canonical form (${raw ?? '?'}) is not allowed`;
    if (isDeniedAddress(host)) return `destination ${host} is a private, loopback, link-local or reserved address`;
    return undefined;
  }
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.localhost.')) {
    return `destination ${host} is a loopback name`;
  }
  if (/^[0-9.]+$/.test(host) || /^0x[0-9a-f]+$/.test(host)) return `numeric host ${host} is not a dotted-quad address`;
  return undefined;
}

export const defaultResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

/** Error code set on the error a guarded lookup fails with. */
export const SSRF_LOOKUP_CODE = 'STIXGATE_SSRF_DENIED';

type LookupCallback = (err: NodeJS.ErrnoException | null, address?: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/tls `connect` options that resolves with node:dns (or `resolver`) and refuses
 * the connection when any resolved address is denied. Checking the address actually connected to
 * closes DNS rebinding (public at validation, private at connect).
 */
export function guardedLookup(resolver: Resolver = defaultResolver) {
  return (
    hostname: string,
    options: { all?: boolean; family?: number | string } | undefined,
    callback: LookupCallback,
  ): void => {
    resolver(hostname).then(
      (addresses) => {
        const want =
          options?.family === 4 || options?.family === 'IPv4'
            ? 4
            : options?.family === 6 || options?.family === 'IPv6'
              ? 6
              : 0;
        const list = want ? addresses.filter((a) => a.family === want) : addresses;
        const denied = list.find((a) => isDeniedAddress(a.address));
        const [usable] = list;
        if (denied || usable === undefined) {
          const err: NodeJS.ErrnoException = new Error(
            denied ? `${hostname} resolves to a denied address (SSRF policy)` : `${hostname} has no usable address`,
          );
          err.code = denied ? SSRF_LOOKUP_CODE : 'ENOTFOUND';
          callback(err);
          return;
        }
        if (options?.all) callback(null, list);
        else callback(null, usable.address, usable.family);
      },
      (err: NodeJS.ErrnoException) => callback(err),
    );
  };
}
