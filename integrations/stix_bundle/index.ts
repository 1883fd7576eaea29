import type { SourceDefinition } from '../../src/pipeline/types.js';
import { stixBundleSchema, type StixBundleConfig } from './schema.js';
import { createStixBundleSource } from './source.js';

export const stixBundleSource: SourceDefinition<StixBundleConfig> = {
  kind: 'source',
  transfer: 'document',
  type: 'stix_bundle',
  summary: 'STIX 2.0/2.1 bundles (streamed), arrays of objects or single objects; 2.0 is upgraded to 2.1',
  schema: stixBundleSchema,
  secretPaths: [],
  create: (config) => createStixBundleSource(config),
};
