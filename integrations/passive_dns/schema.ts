import { s } from '../../src/core/schema.js';
import type { QuotaConfig } from '../enrich-kit/schema.js';

/**
 * CIRCL Passive DNS has no public free tier: access is granted to partners on request and no quota
 * is published. The default, 30 lookups per minute and no daily cap, is a conservative rate; set
 * the numbers of your access agreement.
 */
export const PASSIVE_DNS_DEFAULT_QUOTA: QuotaConfig = { per_minute: 30 };

export const passiveDnsSchema = {
  url: s.string({
    default: 'https://www.circl.lu/pdns/query/',
    pattern: /^https?:\/\//,
    patternHint: 'an http(s) URL',
    description: 'query endpoint; the value is appended (CIRCL: https://www.circl.lu/pdns/query/)',
  }),
  username: s.string({ minLength: 1, maxLength: 256, description: 'HTTP Basic user name' }),
  password: s.string({
    secret: true,
    minLength: 1,
    maxLength: 256,
    description: 'HTTP Basic password; use `${ENV_VAR}` or `${file:…}`',
  }),
  max_records: s.int({
    default: 500,
    min: 1,
    max: 100_000,
    description: 'records of one answer read at most (the rest is discarded)',
  }),
};

export interface PassiveDnsConfig {
  url: string;
  username: string;
  password: string;
  max_records: number;
}
