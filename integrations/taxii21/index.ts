import type { SourceDefinition } from '../../src/pipeline/types.js';
import { taxii21Schema, type Taxii21Config } from './schema.js';
import { createTaxii21Source } from './source.js';

export const taxii21Source: SourceDefinition<Taxii21Config> = {
  kind: 'source',
  transfer: 'pages',
  type: 'taxii21',
  summary:
    'TAXII 2.1 collections (discovery, API roots, objects with added_after/next paging); STIX 2.0 objects are upgraded to 2.1',
  schema: taxii21Schema,
  secretPaths: ['auth.password', 'auth.api_key'],
  create: (config) => createTaxii21Source(config),
};
