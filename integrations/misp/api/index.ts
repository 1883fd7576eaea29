import type { SourceDefinition } from '../../../src/pipeline/types.js';
import { mispApiSchema, type MispApiConfig } from './schema.js';
import { createMispApiSource } from './source.js';

export const mispApiSource: SourceDefinition<MispApiConfig> = {
  kind: 'source',
  transfer: 'pages',
  type: 'misp_api',
  summary:
    'MISP REST API (/events/restSearch, /attributes/restSearch) with a timestamp cursor, mapped to STIX 2.1 by mappings/misp/attributes.yaml',
  schema: mispApiSchema,
  secretPaths: ['api_key'],
  create: (config, ctx) => createMispApiSource(config, ctx),
};
