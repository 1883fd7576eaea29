import type { SourceDefinition } from '../../../src/pipeline/types.js';
import { mispFeedSchema, type MispFeedConfig } from './schema.js';
import { createMispFeedSource } from './source.js';

export const mispFeedSource: SourceDefinition<MispFeedConfig> = {
  kind: 'source',
  transfer: 'document',
  type: 'misp_feed',
  summary: 'MISP feeds (manifest.json, event files, hashes.csv) mapped to STIX 2.1 by mappings/misp/attributes.yaml',
  schema: mispFeedSchema,
  secretPaths: [],
  create: (config, ctx) => createMispFeedSource(config, ctx),
};
