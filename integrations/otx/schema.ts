import { s } from '../../src/core/schema.js';
import { rateLimitSchema } from '../../src/http/rate-limit.js';

export const otxSchema = {
  url: s.string({
    default: 'https://otx.alienvault.com/',
    pattern: /^https?:\/\//,
    patternHint: 'an http(s) URL',
    description: 'OTX base URL; `next` links must stay on its origin',
  }),
  api_key: s.string({
    secret: true,
    minLength: 1,
    maxLength: 256,
    description: 'OTX API key, sent as `X-OTX-API-KEY`; use `${ENV_VAR}` or `${file:…}`',
  }),
  rate_limit: rateLimitSchema(60),
  overlap_secs: s.int({
    default: 3600,
    min: 0,
    max: 7 * 86_400,
    description: 'modified_since = cursor minus this (the store ignores repeats)',
  }),
  initial_days: s.int({
    default: 30,
    min: 1,
    max: 3650,
    description: 'pulses modified this many days back are fetched by the first run',
  }),
  page_size: s.int({ default: 50, min: 1, max: 500, description: '`limit` per page' }),
  max_pages: s.int({
    default: 2000,
    min: 1,
    max: 100_000,
    description: 'pages one run follows at most (a server looping on `next` stops here)',
  }),
};

export interface OtxConfig {
  url: string;
  api_key: string;
  rate_limit: { max_per_minute: number };
  overlap_secs: number;
  initial_days: number;
  page_size: number;
  max_pages: number;
}
