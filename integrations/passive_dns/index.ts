import type { EnricherDefinition } from '../../src/enrich/types.js';
import { createPassiveDnsEnricher } from './enricher.js';
import { PASSIVE_DNS_DEFAULT_QUOTA, passiveDnsSchema, type PassiveDnsConfig } from './schema.js';

export const passiveDnsEnricher: EnricherDefinition<PassiveDnsConfig> = {
  kind: 'enricher',
  type: 'passive_dns',
  summary:
    'CIRCL Passive DNS (Common Output Format, HTTP Basic) → resolutions as domain-name/IP objects, resolves-to relationships and observed-data with first/last seen and count',
  schema: passiveDnsSchema,
  secretPaths: ['password'],
  defaultQuota: PASSIVE_DNS_DEFAULT_QUOTA,
  create: (config) => createPassiveDnsEnricher(config),
};
