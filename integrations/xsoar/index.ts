import type { SinkDefinition } from '../../src/delivery/types.js';
import { XSOAR_MAX_BATCH, XSOAR_SECRET_PATHS, xsoarSchema, type XsoarConfig } from './schema.js';
import { createXsoarSink } from './sink.js';
import { XSOAR_MAPPING_SECTIONS } from './mapping.js';

export const xsoarSink: SinkDefinition<XsoarConfig> = {
  kind: 'sink',
  type: 'xsoar',
  summary:
    'Palo Alto Cortex XSOAR 6/8 indicators (feed/json batches under a source brand, verdict from the score, expiration from valid_until; removal deletes without excluding)',
  schema: xsoarSchema,
  secretPaths: XSOAR_SECRET_PATHS,
  // XSOAR runs 4 workers per core; a few requests at once keep a shared server responsive
  limits: { maxBatch: XSOAR_MAX_BATCH, concurrency: 4 },
  mappingSections: XSOAR_MAPPING_SECTIONS,
  create: (config, ctx) => createXsoarSink(config, ctx),
};
