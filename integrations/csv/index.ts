import type { SourceDefinition } from '../../src/pipeline/types.js';
import { csvSchema, type CsvConfig } from './schema.js';
import { createCsvSource } from './source.js';

export const csvSource: SourceDefinition<CsvConfig> = {
  kind: 'source',
  transfer: 'document',
  type: 'csv',
  summary:
    'CSV, TSV and NDJSON files mapped by a declarative column map (Feodo Tracker, SSLBL, Spamhaus DROP JSON, URLhaus)',
  schema: csvSchema,
  secretPaths: [],
  create: (config, ctx) => createCsvSource(config, ctx, config.type),
};
