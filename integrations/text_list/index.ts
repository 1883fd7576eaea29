import type { SourceDefinition } from '../../src/pipeline/types.js';
import { textListSchema, type TextListConfig } from './schema.js';
import { createTextListSource } from './source.js';

export const textListSource: SourceDefinition<TextListConfig> = {
  kind: 'source',
  transfer: 'document',
  type: 'text_list',
  summary: 'plain-text lists: one IP, CIDR, domain, URL or hash per line (Spamhaus DROP, ET, Tor exits, IPsum)',
  schema: textListSchema,
  secretPaths: [],
  create: (config) => createTextListSource(config),
};
