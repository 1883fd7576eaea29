import { s } from '../../src/core/schema.js';

/** The free (Standard) plan: 1,000 `check` requests per UTC day; no per-minute limit is published for it. */
export const ABUSEIPDB_FREE_QUOTA = { per_day: 1000 };

export const abuseipdbSchema = {
  url: s.string({
    default: 'https://api.abuseipdb.com',
    pattern: /^https?:\/\//,
    patternHint: 'an http(s) URL',
    description: 'AbuseIPDB base URL (the API is under /api/v2)',
  }),
  api_key: s.string({
    secret: true,
    minLength: 1,
    maxLength: 256,
    description: 'AbuseIPDB APIv2 key, sent as the `Key` header; use `${ENV_VAR}` or `${file:…}`',
  }),
  max_age_days: s.int({
    default: 90,
    min: 1,
    max: 365,
    description: '`maxAgeInDays`: reports older than this are ignored',
  }),
};

export interface AbuseIpdbConfig {
  url: string;
  api_key: string;
  max_age_days: number;
}
