/**
 * An enricher's quota (`defaultQuota`): lookups per minute and per UTC day. The `quota` key of
 * every enricher's configuration is the engine's (src/enrich/schema.ts), defaulted from
 * the definition's `defaultQuota`, so the integrations only declare the numbers.
 */
export interface QuotaConfig {
  per_minute?: number;
  per_day?: number;
}
