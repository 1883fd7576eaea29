import type { Observable } from '../../src/core/stix.js';
import type { Enricher, EnrichmentResult } from '../../src/enrich/types.js';
import type { SinkRunContext } from '../../src/delivery/types.js';
import { isRecord, parseJson, probeGet, protocolError, serviceGet, type ServiceRequest } from '../enrich-kit/http.js';
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
      return o.hash === 'MD5' || o.hash === 'SHA-1' || o.hash === 'SHA-256'
        ? `/api/v3/files/${o.value.toLowerCase()}`
        : undefined;
    default:
      return undefined;
  }
}

/** What `validate --probe` asks for: the report of a domain reserved for documentation (RFC 2606). */
export const PROBE_PATH = '/api/v3/domains/example.com';

export function createVirusTotalEnricher(config: VirusTotalConfig): Enricher {
  const base = config.url.replace(/\/+$/, '');
  // VirusTotal sends no Retry-After with its 429 (QuotaExceededError): the per-minute window
  const request = (url: string): ServiceRequest => ({
    service: 'virustotal',
    url,
    headers: { 'x-apikey': config.api_key },
    accept: ['application/json'],
    defaultRetryAfterMs: 60_000,
  });
  return {
    types: ['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'file'],
    async enrich(observable: Observable, ctx: SinkRunContext): Promise<EnrichmentResult | undefined> {
      const path = reportPath(observable);
      if (!path) return undefined;
      const req = request(`${base}${path}`);
      const res = await serviceGet(ctx, req);
      if (!res) return undefined;
      const body = parseJson(ctx, req, await res.text());
      const data = isRecord(body) ? body.data : undefined;
      if (!isRecord(data) || !isRecord(data.attributes))
        throw protocolError(ctx, req, 'the answer has no data.attributes', '$.data.attributes');
      return mapReport(data as { type?: unknown; id?: unknown; attributes?: unknown }, observable, {
        enricherId: ctx.id,
        fullScoreShare: config.full_score_share,
      });
    },
    async probe(ctx: SinkRunContext): Promise<string> {
      // the report of a documentation domain: the key stays in its header (the account endpoint
      // would put it in the URL path), and the answer proves the key works for lookups
      const { summary, res } = await probeGet(ctx, request(`${base}${PROBE_PATH}`), 'one request of the quota');
      await res?.dump();
      return summary;
    },
  };
}
