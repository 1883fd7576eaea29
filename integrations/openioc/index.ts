import type { SourceDefinition } from '../../src/pipeline/types.js';
import { openIocSchema, type OpenIocConfig } from './schema.js';
import { createOpenIocSource } from './source.js';

export const openiocSource: SourceDefinition<OpenIocConfig> = {
  kind: 'source',
  transfer: 'document',
  type: 'openioc',
  summary:
    'OpenIOC 1.0/1.1 documents (file, URL or directory) → one STIX 2.1 indicator each; unmapped terms kept in x_openioc_unmapped',
  schema: openIocSchema,
  secretPaths: [],
  create: (config, ictx) => createOpenIocSource(config, ictx),
};
