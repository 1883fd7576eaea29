import type { SourceDefinition } from '../../src/pipeline/types.js';
import { otxSchema, type OtxConfig } from './schema.js';
import { createOtxSource } from './source.js';

export const otxSource: SourceDefinition<OtxConfig> = {
  kind: 'source',
  transfer: 'pages',
  type: 'otx',
  summary:
    'AlienVault OTX subscribed pulses (API key) → reports with their indicators, malware families, ATT&CK techniques and CVEs',
  schema: otxSchema,
  secretPaths: ['api_key'],
  create: (config, ctx) => createOtxSource(config, ctx),
};
