import type { EnricherDefinition } from '../../src/enrich/types.js';
import { createShodanEnricher } from './enricher.js';
import { SHODAN_FREE_QUOTA, shodanSchema, type ShodanConfig } from './schema.js';

export const shodanEnricher: EnricherDefinition<ShodanConfig> = {
  kind: 'enricher',
  type: 'shodan',
  summary:
    'Shodan host lookup (API key) → note with open ports, services and host names; host names as domain-name objects that resolve to the IP',
  schema: shodanSchema,
  secretPaths: ['api_key'],
  defaultQuota: SHODAN_FREE_QUOTA,
  create: (config) => createShodanEnricher(config),
};
