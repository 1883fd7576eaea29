import { CidrTable, parseCidr } from '../../src/core/cidr.js';
import type { Observable } from '../../src/core/stix.js';
import type { SinkRunContext } from '../../src/delivery/types.js';
import { isRecord, parseJson, protocolError, serviceGet } from '../enrich-kit/http.js';

/**
 * RFC 9224 bootstrap: which RDAP server answers for a TLD or an address range. The IANA registry
 * files (`dns.json`, `ipv4.json`, `ipv6.json`) are fetched when first needed and again after
 * `ttlMs`; each holds `services: [[entries], [base URLs]]`. Domains match their longest TLD/label
 * suffix, addresses their longest prefix. HTTPS base URLs are preferred.
 */

type Kind = 'dns' | 'ipv4' | 'ipv6';
type Entry = { key: string; url: string };
/** A registry file: its entries, and for address registries the table of their ranges. */
type Registry = { at: number; entries: Entry[]; ranges: CidrTable<string> };

const MAX_ENTRIES = 20_000;

export class RdapBootstrap {
  private readonly cache = new Map<Kind, Registry>();

  constructor(
    private readonly baseUrl: string,
    private readonly ttlMs: number,
  ) {}

  /** The RDAP base URL (ending in `/`) for a domain or address, or undefined when none is registered. */
  async serverFor(o: Observable, ctx: SinkRunContext): Promise<string | undefined> {
    const kind: Kind = o.type === 'domain-name' ? 'dns' : o.type === 'ipv4-addr' ? 'ipv4' : 'ipv6';
    const { entries, ranges } = await this.load(kind, ctx);
    if (kind === 'dns') {
      const labels = o.value.toLowerCase().split('.');
      for (let i = 0; i < labels.length; i++) {
        const suffix = labels.slice(i).join('.');
        const hit = entries.find((e) => e.key === suffix);
        if (hit) return hit.url;
      }
      return undefined;
    }
    const addr = parseCidr(o.value);
    return addr && ranges.longest(addr);
  }

  private async load(kind: Kind, ctx: SinkRunContext): Promise<Registry> {
    const c = this.cache.get(kind);
    if (c && ctx.now - c.at < this.ttlMs) return c;
    const req = {
      service: 'rdap bootstrap',
      url: new URL(`${kind}.json`, this.baseUrl).href,
      accept: ['application/json'],
      defaultRetryAfterMs: 60_000,
    };
    const res = await serviceGet(ctx, req);
    if (!res) throw protocolError(ctx, req, 'bootstrap registry not found (404)');
    const doc = parseJson(ctx, req, await res.text());
    if (!isRecord(doc) || !Array.isArray(doc.services))
      throw protocolError(ctx, req, '`services` is missing or not a list', '$.services');
    const entries: Entry[] = [];
    const ranges = new CidrTable<string>();
    doc.services.forEach((svc, i) => {
      if (!Array.isArray(svc) || !Array.isArray(svc[0]) || !Array.isArray(svc[1]))
        throw protocolError(ctx, req, 'a service is not [[entries], [URLs]]', `$.services[${i}]`);
      const urls = (svc[1] as unknown[]).filter((u): u is string => typeof u === 'string' && /^https?:\/\//.test(u));
      const url = urls.find((u) => u.startsWith('https:')) ?? urls[0];
      if (!url) return;
      for (const key of svc[0] as unknown[]) {
        if (typeof key !== 'string' || entries.length >= MAX_ENTRIES) continue;
        const k = key.toLowerCase();
        const e: Entry = { key: k, url: url.endsWith('/') ? url : `${url}/` };
        if (kind !== 'dns') {
          const range = k.includes('/') ? parseCidr(k) : undefined;
          if (!range) continue;
          ranges.add(range, e.url);
        }
        entries.push(e);
      }
    });
    const registry = { at: ctx.now, entries, ranges };
    this.cache.set(kind, registry);
    return registry;
  }
}
