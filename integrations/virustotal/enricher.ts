import { StixgateError } from '../../src/core/errors.js';
import type { Observable } from '../../src/core/stix.js';
import type { Enricher, EnrichmentResult } from '../../src/enrich/types.js';
import type { SinkRunContext } from '../../src/delivery/types.js';
import { probeGet } from '../enrich-kit/http.js';
import { mapReport } from './map.js';
import type { VirusTotalConfig } from './schema.js';

/**
 * VirusTotal API v3 reports: files by hash, URLs by their base64url id, domains, IP addresses.
 * One GET per value; 404 (NotFoundError) means VirusTotal has no report. Quota, 429 and
 * credentials are the enrichment engine's (src/enrich/quota.ts).
 */

/** The report path of a value, or undefined when VirusTotal cannot be asked about it. */
export function reportPath(o: Observable): string | undefined {
  switch (o.type) {
    case 'ipv4-addr':
    case 'ipv6-addr':
      return o.cidr ? undefined : `/api/v3/ip_addresses/${encodeURIComponent(o.value)}`;
    case 'domain-name':
      return `/api/v3/domains/${encodeURIComponent(o.value)}`;
    case 'url':
      return `/api/v3/urls/${Buffer.from(o.value, 'utf8').toString('base64url')}`;
    case 'file':
      // VirusTotal identifies files by MD5, SHA-1 or SHA-256
      return o.hash === 'MD5' || o.hash === 'SHA-1' || o.hash === 'SHA-256' ? `/api/v3/files/${o.value.toLowerCase()}` : undefined;
    default:
      return undefined;
  }
}

/** What `validate --probe` asks for: the report of a domain reserved for documentation (RFC 2606). */
export const PROBE_PATH = '/api/v3/domains/example.com';

export function createVirusTotalEnricher(config: VirusTotalConfig): Enricher {
  const base = config.url.replace(/\/+$/, '');
  return {
    types: ['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'file'],
    async enrich(observable: Observable, ctx: SinkRunContext): Promise<EnrichmentResult | undefined> {
      const path = reportPath(observable);
      if (!path) return undefined;
      const res = await ctx.http.request({
        url: `${base}${path}`,
        headers: { 'x-apikey': config.api_key },
        accept: ['application/json'],
        okStatuses: [404],
        signal: ctx.signal,
      });
      if (res.status === 404) {
        await res.dump();
        return undefined;
      }
      const body = (await res.json()) as { data?: unknown } | null;
      const data = body && typeof body === 'object' ? body.data : undefined;
      if (!data || typeof data !== 'object' || typeof (data as { attributes?: unknown }).attributes !== 'object') {
        throw new StixgateError('STIXGATE_ERR_SINK_PROTOCOL', `enricher ${ctx.id}: virustotal GET ${path.split('/').slice(0, 4).join('/')}/…: the answer has no data.attributes`, {
          reason: 'protocol', location: { source: ctx.id },
        });
      }
      return mapReport(data as { type?: unknown; id?: unknown; attributes?: unknown }, observable, { enricherId: ctx.id, fullScoreShare: config.full_score_share });
    },
    async probe(ctx: SinkRunContext): Promise<string> {
      // the report of a documentation domain: the key stays in its header (the account endpoint
      // would put it in the URL path), and the answer proves the key works for lookups
      const req = { service: 'virustotal', url: `${base}${PROBE_PATH}`, headers: { 'x-apikey': config.api_key }, accept: ['application/json'], defaultRetryAfterMs: 60_000 };
      const { summary, res } = await probeGet(ctx, req, 'one request of the quota');
      await res?.dump();
      return summary;
    },
  };
}
