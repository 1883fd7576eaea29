import type { SinkDefinition } from '../../src/delivery/types.js';
import {
  SPLUNK_SECRET_PATHS,
  splunkEsSchema,
  splunkHecSchema,
  splunkKvSchema,
  type SplunkEsConfig,
  type SplunkHecConfig,
  type SplunkKvConfig,
} from './schema.js';
import { MAX_BATCH_SAVE_BYTES } from './kv.js';
import { createSplunkKvSink } from './sink-kv.js';
import { createSplunkEsSink } from './sink-es.js';
import { createSplunkHecSink } from './sink-hec.js';
import { SPLUNK_MAPPING_SECTIONS } from './mapping.js';

/** Concurrent requests a Splunk sink may be configured for (Splunk documents no limit). */
const MAX_CONCURRENCY = 16;

/** KV and ES both write through storage/collections/data/…/batch_save: the same limits. */
const BATCH_SAVE_LIMITS = { maxBatch: 50_000, maxBytes: MAX_BATCH_SAVE_BYTES - 2, concurrency: MAX_CONCURRENCY };

export const splunkKvSink: SinkDefinition<SplunkKvConfig> = {
  kind: 'sink',
  type: 'splunk_kv',
  mappingSections: SPLUNK_MAPPING_SECTIONS.splunk_kv,
  summary:
    'Splunk KV store collection (one document per value, _key = value hash; batch_save upserts, removal by key; the collection and its fields are created)',
  schema: splunkKvSchema,
  secretPaths: SPLUNK_SECRET_PATHS,
  limits: { ...BATCH_SAVE_LIMITS },
  create: (config, ctx) => createSplunkKvSink(config, ctx),
};

export const splunkEsSink: SinkDefinition<SplunkEsConfig> = {
  kind: 'sink',
  type: 'splunk_es',
  mappingSections: SPLUNK_MAPPING_SECTIONS.splunk_es,
  summary:
    'Splunk Enterprise Security threat intelligence (ip_intel, http_intel, file_intel, email_intel KV collections of DA-ESS-ThreatIntelligence)',
  schema: splunkEsSchema,
  secretPaths: SPLUNK_SECRET_PATHS,
  limits: { ...BATCH_SAVE_LIMITS },
  create: (config, ctx) => createSplunkEsSink(config, ctx),
};

export const splunkHecSink: SinkDefinition<SplunkHecConfig> = {
  kind: 'sink',
  type: 'splunk_hec',
  mappingSections: SPLUNK_MAPPING_SECTIONS.splunk_hec,
  summary:
    'Splunk HTTP Event Collector (an event per upsert or removal, deterministic event ids, optional indexer acknowledgement)',
  schema: splunkHecSchema,
  secretPaths: ['token'],
  limits: { maxBatch: 5000, maxBytes: 838_860_800, concurrency: MAX_CONCURRENCY },
  create: (config, ctx) => createSplunkHecSink(config, ctx),
};
