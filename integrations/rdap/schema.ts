import { s } from '../../src/core/schema.js';
import type { QuotaConfig } from '../enrich-kit/schema.js';

/**
 * RDAP is free and needs no key; registries publish no numeric limit but answer 429 when a client
 * queries too fast (RFC 7480 §5.5). The default, 10 lookups per minute and no daily cap, stays well
 * below what registries tolerate for unauthenticated clients; raise it for your own registry.
 */
export const RDAP_DEFAULT_QUOTA: QuotaConfig = { per_minute: 10 };

export const rdapSchema = {
  url: s.string({
    optional: true,
    pattern: /^https?:\/\//,
    patternHint: 'an http(s) URL',
    description:
      'one RDAP server for every query (its base URL, before `domain/` and `ip/`); unset: find the server through the IANA bootstrap registries',
  }),
  bootstrap_url: s.string({
    default: 'https://data.iana.org/rdap/',
    pattern: /^https?:\/\//,
    patternHint: 'an http(s) URL',
    description: 'where the RFC 9224 bootstrap files dns.json, ipv4.json and ipv6.json are',
  }),
  bootstrap_ttl_hours: s.number({
    default: 24,
    min: 0.01,
    max: 24 * 30,
    description: 'how long a bootstrap file is used before it is fetched again',
  }),
};

export interface RdapConfig {
  url?: string;
  bootstrap_url: string;
  bootstrap_ttl_hours: number;
}
