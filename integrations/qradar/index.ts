import type { SinkDefinition } from '../../src/delivery/types.js';
import { qradarSchema, type QradarConfig } from './schema.js';
import { createQradarSink, QRADAR_LIMITS, QRADAR_MAPPING_SECTIONS } from './sink.js';

export const qradarSink: SinkDefinition<QradarConfig> = {
  kind: 'sink',
  type: 'qradar',
  summary:
    'IBM QRadar reference sets (reference_data_collections from API 16.0, the legacy reference_data/sets API before): one set per observable type, bulk adds, idempotent removals, TTL',
  schema: qradarSchema,
  secretPaths: ['token', 'password'],
  limits: QRADAR_LIMITS,
  mappingSections: QRADAR_MAPPING_SECTIONS,
  create: (config, ctx) => createQradarSink(config, ctx),
};
