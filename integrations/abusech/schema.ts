import { s } from '../../src/core/schema.js';
import { rateLimitSchema } from '../../src/http/rate-limit.js';

/** Keys every abuse.ch API source takes; `url` defaults to the service's endpoint. */
export function abusechSchema(defaultUrl: string, defaultPerMinute = 10) {
  return {
    url: s.string({
      default: defaultUrl,
      pattern: /^https?:\/\//,
      patternHint: 'an http(s) URL',
      description: 'API endpoint (the public service by default; a mirror or simulator otherwise)',
    }),
    auth_key: s.string({
      secret: true,
      minLength: 1,
      maxLength: 256,
      description:
        'abuse.ch Auth-Key (https://auth.abuse.ch/), sent as the `Auth-Key` header; use `${ENV_VAR}` or `${file:…}`',
    }),
    rate_limit: rateLimitSchema(defaultPerMinute),
    overlap_secs: s.int({
      default: 3600,
      min: 0,
      max: 7 * 86_400,
      description: 'records this much older than the cursor are fetched again (the store ignores repeats)',
    }),
  };
}

export interface AbusechConfig {
  url: string;
  auth_key: string;
  rate_limit: { max_per_minute: number };
  overlap_secs: number;
}
