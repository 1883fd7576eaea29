import type { EnricherDefinition } from '../../src/enrich/types.js';
import { createRdapEnricher } from './enricher.js';
import { RDAP_DEFAULT_QUOTA, rdapSchema, type RdapConfig } from './schema.js';

export const rdapEnricher: EnricherDefinition<RdapConfig> = {
  kind: 'enricher',
  type: 'rdap',
  summary:
    'RDAP registration data (no key; IANA bootstrap) → note with registrar, creation and expiry dates and abuse contact of domains, network name, range, owner and abuse contact of IPs',
  schema: rdapSchema,
  secretPaths: [],
  defaultQuota: RDAP_DEFAULT_QUOTA,
  create: (config) => createRdapEnricher(config),
};
