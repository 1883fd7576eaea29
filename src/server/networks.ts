import { isIP } from 'node:net';
import { cidrSet, parseCidr } from '../core/cidr.js';
import { formatIpv6, maskIpv6, parseIpv6 } from '../core/ip-address.js';

/** An address as the server reports it, with an IPv4-mapped IPv6 prefix (`::ffff:`) removed. */
export function plainAddress(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m?.[1] ?? ip;
}

/**
 * The rate-limit identity of a client address: an IPv4 address as is, an IPv6 address by its
 * /64 (one subscriber's allocation), so a client cannot rotate through its own /64 for fresh
 * buckets.
 */
export function clientBucketOf(ip: string): string {
  const a = plainAddress(ip);
  if (isIP(a) !== 6) return a;
  const words = parseIpv6(a);
  if (!words) return a;
  maskIpv6(words, 64);
  return `${formatIpv6(words)}/64`;
}

/** A matcher for a list of addresses and CIDRs (validated by the schema); undefined when the list is empty. */
export function networkMatcher(entries: readonly string[]): ((ip: string) => boolean) | undefined {
  if (entries.length === 0) return undefined;
  const table = cidrSet(entries);
  return (ip: string) => {
    const c = parseCidr(ip);
    return c !== undefined && table.has(c);
  };
}
