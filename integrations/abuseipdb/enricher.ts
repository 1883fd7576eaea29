import { StixgateError } from '../../src/core/errors.js';
import type { Observable } from '../../src/core/stix.js';
import type { Enricher, EnrichmentResult } from '../../src/enrich/types.js';
import type { SinkRunContext } from '../../src/delivery/types.js';
import { probeGet } from '../enrich-kit/http.js';
import { mapCheck, type CheckData } from './map.js';
import type { AbuseIpdbConfig } from './schema.js';

/**
 * AbuseIPDB APIv2 `GET /api/v2/check?ipAddress=&maxAgeInDays=`, one request per address. The
 * service answers for every valid address (score 0 when nobody reported it), so there is no
 * "not found". Quota, 429 (Retry-After, X-RateLimit-Reset) and credentials are the engine's.
 */
export function createAbuseIpdbEnricher(config: AbuseIpdbConfig): Enricher {
  const base = config.url.replace(/\/+$/, '');
  return {
    types: ['ipv4-addr', 'ipv6-addr'],
    async enrich(observable: Observable, ctx: SinkRunContext): Promise<EnrichmentResult | undefined> {
      if (observable.cidr) return undefined;
      const q = new URLSearchParams({ ipAddress: observable.value, maxAgeInDays: String(config.max_age_days) });
      const res = await ctx.http.request({
        url: `${base}/api/v2/check?${q}`,
        headers: { Key: config.api_key },
        accept: ['application/json'],
        signal: ctx.signal,
      });
      const body = (await res.json()) as { data?: unknown } | null;
      const data = body && typeof body === 'object' ? body.data : undefined;
      if (!data || typeof data !== 'object' || typeof (data as CheckData).abuseConfidenceScore !== 'number') {
        throw new StixgateError('STIXGATE_ERR_SINK_PROTOCOL', `enricher ${ctx.id}: abuseipdb GET /api/v2/check: the answer has no data.abuseConfidenceScore`, {
          reason: 'protocol', location: { source: ctx.id },
        });
      }
      return mapCheck(data as CheckData, observable, { enricherId: ctx.id, maxAgeDays: config.max_age_days });
    },
    async probe(ctx: SinkRunContext): Promise<string> {
      // AbuseIPDB has no free endpoint: the probe checks a loopback address (one check of the daily
      // quota) and reports what the X-RateLimit-Remaining header says is left
      const req = { service: 'abuseipdb', url: `${base}/api/v2/check?ipAddress=127.0.0.1&maxAgeInDays=1`, headers: { Key: config.api_key }, accept: ['application/json'], defaultRetryAfterMs: 60_000 };
      const { summary, res } = await probeGet(ctx, req, 'one check of the daily quota');
      const left = res?.headers['x-ratelimit-remaining'];
      await res?.dump();
      return left !== undefined && /^\d+$/.test(left) ? `${summary}, ${left} left today` : summary;
    },
  };
}
