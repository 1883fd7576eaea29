import { s } from '../../src/core/schema.js';
import type { QuotaConfig } from '../enrich-kit/schema.js';

/**
 * The free tier: the REST API answers 1 request per second on the free and membership plans, and
 * host lookups (`/shodan/host/{ip}`) use no query credits, so there is no daily cap.
 */
export const SHODAN_FREE_QUOTA: QuotaConfig = { per_minute: 60 };

export const shodanSchema = {
  url: s.string({
    default: 'https://api.shodan.io/',
    pattern: /^https?:\/\//,
    patternHint: 'an http(s) URL',
    description: 'Shodan REST API base URL',
  }),
  api_key: s.string({
    secret: true,
    minLength: 1,
    maxLength: 256,
    description: 'Shodan API key (sent as the `key` query parameter); use `${ENV_VAR}` or `${file:…}`',
  }),
  minify: s.bool({
    default: true,
    description:
      'ask for the host summary without service banners (smaller answers; product/version per port are then unknown)',
  }),
  max_hostnames: s.int({
    default: 50,
    min: 1,
    max: 1000,
    description: 'host names of one answer turned into domain-name objects at most',
  }),
};

export interface ShodanConfig {
  url: string;
  api_key: string;
  minify: boolean;
  max_hostnames: number;
}
