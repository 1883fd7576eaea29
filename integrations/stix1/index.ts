import type { SourceDefinition } from '../../src/pipeline/types.js';
import { stix1Schema, type Stix1Config } from './schema.js';
import { createStix1Source } from './source.js';

export const stix1Source: SourceDefinition<Stix1Config> = {
  kind: 'source',
  transfer: 'document',
  type: 'stix1',
  summary:
    'STIX 1.1.1/1.2 XML packages (file, URL or directory): indicators, CybOX observables, TTPs, actors, campaigns, incidents, exploit targets, COAs, reports → STIX 2.1',
  schema: stix1Schema,
  secretPaths: [],
  create: (config, ictx) => createStix1Source(config, ictx),
};
