import type { EnricherDefinition } from '../../src/enrich/types.js';
import { createAbuseIpdbEnricher } from './enricher.js';
import { ABUSEIPDB_FREE_QUOTA, abuseipdbSchema, type AbuseIpdbConfig } from './schema.js';

export const abuseipdbEnricher: EnricherDefinition<AbuseIpdbConfig> = {
  kind: 'enricher',
  type: 'abuseipdb',
  summary:
    'AbuseIPDB check for IPv4/IPv6 addresses (API key) → note with reports, ISP and usage type; maliciousness = abuseConfidenceScore',
  schema: abuseipdbSchema,
  secretPaths: ['api_key'],
  defaultQuota: ABUSEIPDB_FREE_QUOTA,
  create: (config) => createAbuseIpdbEnricher(config),
};
