import { s } from '../../src/config/schema.js';

/** An enricher's quota: lookups per minute and per day (the service's free tier by default). */
export interface QuotaConfig {
  per_minute?: number;
  per_day?: number;
}

/**
 * `quota: { per_minute, per_day }`. The defaults are the service's free-tier limits; the engine
 * applies them with bottleneck (per_minute → spacing, per_day → a daily reservoir).
 */
export function quotaSchema(defaults: QuotaConfig) {
  return s.object(
    {
      per_minute: s.number({ min: 0.1, max: 60_000, ...(defaults.per_minute !== undefined ? { default: defaults.per_minute } : { optional: true }), description: 'lookups started per minute at most' }),
      per_day: s.int({ min: 1, max: 100_000_000, ...(defaults.per_day !== undefined ? { default: defaults.per_day } : { optional: true }), description: 'lookups per UTC day at most (unset: no daily cap)' }),
    },
    { default: { ...defaults } as { per_minute: number; per_day: number }, description: 'client-side quota; the defaults are the service\'s free tier' },
  );
}
