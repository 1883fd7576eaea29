import { cidrBits, formatCidr, parseCidr, widen, type Cidr } from '../../core/cidr.js';
import { parseIpv4, parseIpv6 } from '../../core/ip-address.js';
import type { Observable } from '../../core/stix.js';
import { URL_HOST_RE } from '../lookup-index.js';

/** Which CIDR prefix lengths are listed at all (NegativeFilter keeps them); undefined: every length. */
export interface ListedLengths {
  v4Lengths: Uint8Array;
  v6Lengths: Uint8Array;
}

/**
 * Every listed value that can match a lookup of `obs` in the lookup index (LookupIndex.collect):
 * the value itself; for an address or range, each CIDR containing it (the canonical `net/len`
 * text of every prefix length that is listed, at most the range's own); for a host, its parent
 * domains of at least two labels (when `matchParents`); for a URL, the URL and its host as above.
 * An indicator matches the lookup only if it lists one of these, so fetching the indicators that
 * list them and looking the value up among those gives the whole index's answer.
 */
export function candidateValues(obs: Observable, matchParents: boolean, listed?: ListedLengths): string[] {
  const out: string[] = [];
  switch (obs.type) {
    case 'ipv4-addr':
    case 'ipv6-addr': {
      if (!obs.cidr) out.push(obs.value);
      const c = parseCidr(obs.value);
      if (c) ranges(c, Math.min(c.len, cidrBits(c) - 1), listed, out);
      break;
    }
    case 'domain-name':
      domainAndParents(obs.value, matchParents, out);
      break;
    case 'url': {
      out.push(obs.value);
      const host = URL_HOST_RE.exec(obs.value)?.[1];
      if (!host) break;
      if (host.startsWith('[')) {
        const inner = host.slice(1, -1);
        out.push(inner);
        const words = parseIpv6(inner);
        if (words) ranges({ v: 6, words, len: 128 }, 127, listed, out);
        break;
      }
      const ip = parseIpv4(host);
      if (ip !== undefined) {
        out.push(host);
        ranges({ v: 4, net: ip, len: 32 }, 31, listed, out);
        break;
      }
      domainAndParents(host, matchParents, out);
      break;
    }
    case 'email-addr':
    case 'file':
    case 'x509-certificate':
      out.push(obs.value);
      break;
  }
  return out;
}

/** The canonical CIDRs of lengths 1..`max` containing `c` (of the listed lengths only, when known). */
function ranges(c: Cidr, max: number, listed: ListedLengths | undefined, out: string[]): void {
  const lengths = listed && (c.v === 4 ? listed.v4Lengths : listed.v6Lengths);
  for (let len = 1; len <= max; len++) if (!lengths || lengths[len] === 1) out.push(formatCidr(widen(c, len)));
}

/** The host and (when enabled) its parents of at least two labels: a.b.evil.com → b.evil.com, evil.com. */
function domainAndParents(host: string, matchParents: boolean, out: string[]): void {
  out.push(host);
  if (!matchParents) return;
  let dot = host.indexOf('.');
  while (dot >= 0) {
    const parent = host.slice(dot + 1);
    if (parent.indexOf('.') < 0) break;
    out.push(parent);
    dot = host.indexOf('.', dot + 1);
  }
}
