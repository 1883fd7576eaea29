import type { Observable } from '../../src/core/stix.js';
import type { Enricher, EnrichmentResult } from '../../src/enrich/types.js';
import type { SinkRunContext } from '../../src/delivery/types.js';
import { isRecord, parseJson, probeGet, protocolError, serviceGet, type ServiceRequest } from '../enrich-kit/http.js';
import { mapCheck, type CheckData } from './map.js';
import type { AbuseIpdbConfig } from './schema.js';

/**
 * AbuseIPDB APIv2 `GET /api/v2/check?ipAddress=&maxAgeInDays=`, one request per address. The
 * service answers for every valid address (score 0 when nobody reported it), so there is no
 * "not found". Quota, 429 (Retry-After, X-RateLimit-Reset) and credentials are the engine's.
 */
export function createAbuseIpdbEnricher(config: AbuseIpdbConfig): Enricher {
  const base = config.url.replace(/\/+$/, '');
  // a 429 carries Retry-After (the daily reset); without it, an hour
  const request = (url: string): ServiceRequest => ({
    service: 'abuseipdb',
    url,
    headers: { Key: config.api_key },
    accept: ['application/json'],
    defaultRetryAfterMs: 3_600_000,
  });
  return {
    types: ['ipv4-addr', 'ipv6-addr'],
    async enrich(observable: Observable, ctx: SinkRunContext): Promise<EnrichmentResult | undefined> {
      if (observable.cidr) return undefined;
      const q = new URLSearchParams({ ipAddress: observable.value, maxAgeInDays: String(config.max_age_days) });
      const req = request(`${base}/api/v2/check?${q}`);
      const res = await serviceGet(ctx, req);
      // every valid address has an answer: a 404 is not one the API documents for /check
      if (!res) throw protocolError(ctx, req, 'status 404 is not an answer the API documents');
      const body = parseJson(ctx, req, await res.text());
      const data = isRecord(body) ? body.data : undefined;
      if (!isRecord(data) || typeof data.abuseConfidenceScore !== 'number')
        throw protocolError(ctx, req, 'the answer has no data.abuseConfidenceScore', '$.data.abuseConfidenceScore');
      return mapCheck(data as CheckData, observable, { enricherId: ctx.id, maxAgeDays: config.max_age_days });
    },
    async probe(ctx: SinkRunContext): Promise<string> {
      // AbuseIPDB has no free endpoint: the probe checks a loopback address (one check of the daily
      // quota) and reports what the X-RateLimit-Remaining header says is left
      const { summary, res } = await probeGet(
        ctx,
        request(`${base}/api/v2/check?ipAddress=127.0.0.1&maxAgeInDays=1`),
        'one check of the daily quota',
      );
      const left = res?.headers['x-ratelimit-remaining'];
      await res?.dump();
      return left !== undefined && /^\d+$/.test(left) ? `${summary}, ${left} left today` : summary;
    },
  };
}
