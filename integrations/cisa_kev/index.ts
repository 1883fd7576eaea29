import type { SourceDefinition } from '../../src/pipeline/types.js';
import { cisaKevSchema, type CisaKevConfig } from './schema.js';
import { createCisaKevSource } from './source.js';

export const cisaKevSource: SourceDefinition<CisaKevConfig> = {
  kind: 'source',
  transfer: 'document',
  type: 'cisa_kev',
  summary: 'CISA Known Exploited Vulnerabilities catalog (JSON) → STIX vulnerability objects',
  schema: cisaKevSchema,
  secretPaths: [],
  create: (config) => createCisaKevSource(config),
};
