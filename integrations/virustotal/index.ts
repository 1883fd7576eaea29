import type { EnricherDefinition } from '../../src/enrich/types.js';
import { createVirusTotalEnricher } from './enricher.js';
import { VIRUSTOTAL_FREE_QUOTA, virustotalSchema, type VirusTotalConfig } from './schema.js';

export const virustotalEnricher: EnricherDefinition<VirusTotalConfig> = {
  kind: 'enricher',
  type: 'virustotal',
  summary:
    'VirusTotal API v3 reports for hashes, URLs, domains and IPs (API key) → note with engine verdicts; maliciousness from the share of engines flagging the value',
  schema: virustotalSchema,
  secretPaths: ['api_key'],
  defaultQuota: VIRUSTOTAL_FREE_QUOTA,
  create: (config) => createVirusTotalEnricher(config),
};
