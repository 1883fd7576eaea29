import { s } from '../../../src/core/schema.js';
import { abusechSchema, type AbusechConfig } from '../schema.js';

export const URLHAUS_API = 'https://urlhaus-api.abuse.ch/v1/';

export const urlhausSchema = {
  ...abusechSchema(URLHAUS_API),
  endpoint: s.enum(['urls', 'payloads'] as const, {
    default: 'urls',
    description: '`urls` (urls/recent: malware URLs) or `payloads` (payloads/recent: files they served)',
  }),
  limit: s.int({
    default: 1000,
    min: 1,
    max: 1000,
    description: 'records per poll (the API returns at most 1000, from the last 3 days)',
  }),
};

export interface UrlhausConfig extends AbusechConfig {
  endpoint: 'urls' | 'payloads';
  limit: number;
}
