import { group, last } from '../../src/core/indexed.js';
import type { IncomingMessage } from 'node:http';
import { cidrContains, lastIpv4, lastIpv6, parseCidr } from '../../src/core/cidr.js';
import { formatIpv4, formatIpv6 } from '../../src/core/ip-address.js';
import { RDAP_MEDIA_TYPE } from './map.js';
import { EnrichmentSimulator, type QuotaLimits, type SimResponse } from '../enrich-kit/sim-base.js';

/**
 * A loopback simulator of an RDAP server (RFC 7480 HTTP usage, RFC 9082 queries, RFC 9083 JSON):
 * `GET /domain/{name}` and `GET /ip/{address}` answer `application/rdap+json` domain and IP network
 * objects (events, entities with roles and jCard `vcardArray`s, nameservers, status, links,
 * `rdapConformance`, notices); unknown objects 404 and malformed queries 400 with the RFC 9083 §6
 * error object; past the quota 429 with Retry-After (RFC 7480 §5.5). RDAP needs no credentials.
 * It also serves RFC 9224 bootstrap registries at /bootstrap/{dns,ipv4,ipv6}.json that point
 * every TLD and address range at itself (those requests do not count against the quota).
 */

export type RdapDoc = Record<string, unknown>;

type Vcard = [string, Record<string, unknown>, string, unknown][];

function vcard(fn: string, extra: Vcard = []): unknown[] {
  return ['vcard', [['version', {}, 'text', '4.0'], ['fn', {}, 'text', fn], ...extra]];
}

function event(action: string, date: string | undefined): unknown[] {
  return date ? [{ eventAction: action, eventDate: date }] : [];
}

export interface DomainOpts {
  registrar?: string;
  ianaId?: string;
  registered?: string;
  expires?: string;
  lastChanged?: string;
  abuseEmail?: string;
  nameservers?: string[];
  status?: string[];
}

/** A registry's domain object (ICANN gTLD profile shape: registrar entity with IANA id and abuse contact). */
export function makeRdapDomain(name: string, o: DomainOpts = {}): RdapDoc {
  return {
    rdapConformance: ['rdap_level_0', 'icann_rdap_response_profile_0', 'icann_rdap_technical_implementation_guide_0'],
    objectClassName: 'domain',
    handle: `${name.replace(/\W/g, '_').toUpperCase()}-EXAMPLE`,
    ldhName: name.toUpperCase(),
    links: [
      {
        value: `https://rdap.example.net/domain/${name}`,
        rel: 'self',
        href: `https://rdap.example.net/domain/${name}`,
        type: RDAP_MEDIA_TYPE,
      },
    ],
    status: o.status ?? ['client transfer prohibited'],
    entities: [
      {
        objectClassName: 'entity',
        handle: o.ianaId ?? '9999',
        roles: ['registrar'],
        publicIds: [{ type: 'IANA Registrar ID', identifier: o.ianaId ?? '9999' }],
        vcardArray: vcard(o.registrar ?? 'Example Registrar, Inc.'),
        entities: [
          {
            objectClassName: 'entity',
            roles: ['abuse'],
            vcardArray: vcard('', [
              ['tel', { type: 'voice' }, 'uri', 'tel:+1.5555550100'],
              ['email', {}, 'text', o.abuseEmail ?? 'abuse@registrar.example'],
            ]),
          },
        ],
      },
    ],
    events: [
      ...event('registration', o.registered ?? '2026-02-20T09:30:00Z'),
      ...event('expiration', o.expires ?? '2027-02-20T09:30:00Z'),
      ...event('last changed', o.lastChanged),
      { eventAction: 'last update of RDAP database', eventDate: '2026-03-02T11:59:00Z' },
    ],
    secureDNS: { delegationSigned: false },
    nameservers: (o.nameservers ?? ['ns1.dns-host.example', 'ns2.dns-host.example']).map((n) => ({
      objectClassName: 'nameserver',
      ldhName: n.toUpperCase(),
    })),
    notices: [
      {
        title: 'Terms of Use',
        description: ['Service subject to Terms of Use.'],
        links: [{ href: 'https://www.example.net/terms', type: 'text/html' }],
      },
    ],
  };
}

export interface NetworkOpts {
  name?: string;
  handle?: string;
  country?: string;
  registrant?: string;
  abuseEmail?: string;
  registered?: string;
  lastChanged?: string;
}

/** A RIR's IP network object for `cidr` (start/end address, cidr0 extension, registrant and abuse entities). */
export function makeRdapNetwork(cidr: string, o: NetworkOpts = {}): RdapDoc {
  const range = parseCidr(cidr);
  if (!range) throw new Error(`not a CIDR range: ${cidr}`);
  const { len } = range;
  const v6 = range.v === 6;
  const start = v6 ? formatIpv6(range.words) : formatIpv4(range.net);
  const end = v6 ? formatIpv6(lastIpv6(range.words, len)) : formatIpv4(lastIpv4(range.net, len));
  return {
    rdapConformance: ['rdap_level_0', 'cidr0'],
    objectClassName: 'ip network',
    handle: o.handle ?? `NET-${start.replace(/[.:]/g, '-')}-1`,
    startAddress: start,
    endAddress: end,
    ipVersion: v6 ? 'v6' : 'v4',
    name: o.name ?? 'EXAMPLE-HOSTING-NET',
    type: 'ASSIGNED PA',
    country: o.country ?? 'NL',
    parentHandle: 'NET-PARENT-1',
    cidr0_cidrs: [v6 ? { v6prefix: start, length: len } : { v4prefix: start, length: len }],
    status: ['active'],
    links: [
      {
        value: `https://rdap.example.net/ip/${start}`,
        rel: 'self',
        href: `https://rdap.example.net/ip/${cidr}`,
        type: RDAP_MEDIA_TYPE,
      },
    ],
    entities: [
      {
        objectClassName: 'entity',
        handle: 'ORG-EH1',
        roles: ['registrant'],
        vcardArray: vcard(o.registrant ?? 'Example Hosting Ltd', [['kind', {}, 'text', 'org']]),
      },
      {
        objectClassName: 'entity',
        handle: 'ABUSE-EH1',
        roles: ['abuse'],
        vcardArray: vcard('Abuse contact', [
          ['kind', {}, 'text', 'group'],
          ['email', {}, 'text', o.abuseEmail ?? 'abuse@hosting.example'],
        ]),
      },
    ],
    events: [
      ...event('registration', o.registered ?? '2014-05-12T08:00:00Z'),
      ...event('last changed', o.lastChanged ?? '2025-11-03T14:20:00Z'),
    ],
  };
}

export interface RdapSimulatorOptions {
  /** Default 10 per minute: the enricher's default (registries publish no number). */
  quota?: QuotaLimits;
  now?: () => number;
}

export class RdapSimulator extends EnrichmentSimulator {
  readonly domains = new Map<string, RdapDoc>();
  /** CIDR → network object; the longest prefix containing the address answers. */
  readonly networks = new Map<string, RdapDoc>();

  constructor(opts: RdapSimulatorOptions = {}) {
    super({ quota: opts.quota ?? { perMinute: 10 }, now: opts.now });
  }

  protected errorResponse(status: number): SimResponse {
    const title =
      status === 404
        ? 'Not Found'
        : status === 400
          ? 'Bad Request'
          : status === 429
            ? 'Too Many Requests'
            : status >= 500
              ? 'Internal Server Error'
              : 'Error';
    return {
      status,
      body: JSON.stringify({ rdapConformance: ['rdap_level_0'], errorCode: status, title, description: [`${title}.`] }),
      type: RDAP_MEDIA_TYPE,
    };
  }

  private bootstrap(kind: string): SimResponse {
    const server = [`${this.base}/`];
    const entries =
      kind === 'dns'
        ? [...new Set([...this.domains.keys()].map((d) => last(d.split('.'))))]
        : [...this.networks.keys()].filter((c) => c.includes(':') === (kind === 'ipv6'));
    return {
      status: 200,
      body: JSON.stringify({
        version: '1.0',
        publication: '2026-03-01T00:00:00Z',
        description: 'simulated bootstrap',
        services: entries.length ? [[entries, server]] : [],
      }),
      type: 'application/json',
    };
  }

  protected route(req: IncomingMessage, url: URL): SimResponse {
    const b = /^\/bootstrap\/(dns|ipv4|ipv6)\.json$/.exec(url.pathname);
    if (b) return this.bootstrap(group(b, 1));
    if (url.pathname === '/help' && (req.method === 'GET' || req.method === 'HEAD')) {
      // RFC 9082 §3.1.6: the server's help; RFC 9083 §7: a response with notices
      return {
        status: 200,
        body: JSON.stringify({
          rdapConformance: ['rdap_level_0'],
          notices: [{ title: 'Help', description: ['Simulated RDAP server: domain/{name} and ip/{address}.'] }],
        }),
        type: RDAP_MEDIA_TYPE,
      };
    }
    const m = /^\/(domain|ip)\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.errorResponse(400);
    if (!m) return this.errorResponse(404);
    const q = this.quota.take();
    if (!q.ok) return this.quotaExceeded(q.retryAfterSecs);
    const value = decodeURIComponent(group(m, 2)).toLowerCase();
    let doc: RdapDoc | undefined;
    if (m[1] === 'domain') {
      if (!/^[a-z0-9.-]+$/.test(value)) return this.errorResponse(400);
      doc = this.domains.get(value.replace(/\.$/, ''));
    } else {
      const addr = parseCidr(value);
      if (!addr || value.includes('/')) return this.errorResponse(400);
      let best = -1;
      for (const [cidr, d] of this.networks) {
        const net = parseCidr(cidr);
        if (net && cidrContains(net, addr) && net.len > best) {
          best = net.len;
          doc = d;
        }
      }
    }
    if (!doc) return this.errorResponse(404);
    return { status: 200, body: JSON.stringify(doc), type: RDAP_MEDIA_TYPE };
  }
}
