import type { Client } from '@opensearch-project/opensearch';
import { errorType } from './client.js';

/** Bumped when the mappings change; stored in the template's `_meta`. */
export const MAPPING_VERSION = 1;

/** Longest name/description/pattern (characters) the text filter can match; longer ones are kept, not searchable. */
export const TEXT_IGNORE_ABOVE = 8191;

export interface IndexNames {
  objects: string;
  meta: string;
}

export function indexNames(prefix: string): IndexNames {
  return { objects: `${prefix}-objects`, meta: `${prefix}-meta` };
}

export interface IndexSettings {
  shards: number;
  replicas: number;
  refreshInterval: string;
}

const keyword = { type: 'keyword' } as const;
const date = { type: 'date', format: 'strict_date_optional_time||epoch_millis' } as const;
const textKeyword = { type: 'keyword', normalizer: 'stixgate_lowercase', ignore_above: TEXT_IGNORE_ABOVE } as const;
/** Kept in _source only: not indexed, no doc values. */
const stored = { type: 'keyword', index: false, doc_values: false } as const;

/** One document per STIX object, `_id` = STIX id (docs/adr/0003-opensearch-store.md). */
export const OBJECTS_MAPPINGS = {
  dynamic: 'strict',
  _meta: { stixgate_mapping_version: MAPPING_VERSION },
  properties: {
    id: keyword,
    type: keyword,
    /** active | revoked | expired */
    state: keyword,
    /** The change-log position of the object's latest change. */
    seq: { type: 'long' },
    /** The seq of the object's first write: a stable insertion order for query pagination. */
    first_seq: { type: 'long' },
    created: date,
    modified: date,
    valid_until: date,
    /** Canonical observable values (SCO values, hashes, indicator pattern comparisons). */
    values: keyword,
    /** `[{type, value}]` for the lookup index, not indexed. */
    obs: { type: 'object', enabled: false },
    name: textKeyword,
    description: textKeyword,
    pattern: textKeyword,
    /** The `x_stixgate` extension, flattened for queries: source ids, score, strictest TLP, seen window. */
    provenance: {
      properties: {
        sources: keyword,
        score: { type: 'short' },
        tlp: keyword,
        first_seen: date,
        last_seen: date,
      },
    },
    /** The canonical JSON of the STIX object, exactly as merged (never parsed by OpenSearch). */
    json: stored,
    /** The packed score history (docs/adr/0026-score-history.md). */
    score_history: stored,
  },
} as const;

/** Sequence counter, cursors and leases, `_id` = `<kind>:<name>`. */
export const META_MAPPINGS = {
  dynamic: 'strict',
  _meta: { stixgate_mapping_version: MAPPING_VERSION },
  properties: {
    kind: keyword,
    name: keyword,
    value: stored,
    holder: keyword,
    expires_at: { type: 'long' },
    next: { type: 'long' },
    inflight: { type: 'object', enabled: false },
    /** Change-log writer slots (ADR 0023): fence, reservation, reaped mark; the retired counter. */
    fence: { type: 'long' },
    reserved: { type: 'long' },
    dead: { type: 'boolean' },
    retired_at: { type: 'long' },
    updated_at: { type: 'long' },
  },
} as const;

/** An existing index whose primary shard count is not the configured one (fixed at creation). */
export interface ShardMismatch {
  index: string;
  configured: number;
  actual: number;
}

/**
 * Brings an existing index's replicas to the configuration (a dynamic setting) and reports a
 * different primary shard count, which only a split, shrink or reindex can change
 * (docs/opensearch.md, "Shards and replicas").
 */
export async function applyIndexSettings(
  client: Client,
  index: string,
  shards: number,
  replicas: number,
  extra: Record<string, unknown> = {},
): Promise<ShardMismatch | undefined> {
  await client.indices.putSettings({ index, body: { index: { number_of_replicas: replicas, ...extra } } });
  const r = await client.indices.getSettings({ index, name: 'index.number_of_shards' });
  const actual = Number(r.body[index]?.settings?.index?.number_of_shards);
  return Number.isFinite(actual) && actual !== shards ? { index, configured: shards, actual } : undefined;
}

/** The meta index (leases, cursors, writer slots: a few hundred small documents) always has one shard. */
export const META_SHARDS = 1;

/**
 * Creates or upgrades the index templates and the two indices (idempotent, safe to run from
 * several instances at once): templates are PUT, missing indices created (a concurrent
 * creation is fine), existing ones get the current mappings (additive), refresh interval and
 * replicas. Returns the existing indices whose shard count differs from the configuration.
 */
export async function ensureIndices(client: Client, names: IndexNames, s: IndexSettings): Promise<ShardMismatch[]> {
  const mismatches: ShardMismatch[] = [];
  const specs: [string, object, string, number][] = [
    [names.objects, OBJECTS_MAPPINGS, s.refreshInterval, s.shards],
    [names.meta, META_MAPPINGS, '1s', META_SHARDS],
  ];
  for (const [index, mappings, refresh, shards] of specs) {
    const m = await ensureIndex(client, index, {
      mappings,
      shards,
      replicas: s.replicas,
      settings: {
        refresh_interval: refresh,
        analysis: { normalizer: { stixgate_lowercase: { type: 'custom', filter: ['lowercase'] } } },
      },
      update: { refresh_interval: refresh },
    });
    if (m) mismatches.push(m);
  }
  await client.cluster.health({ index: `${names.objects},${names.meta}`, wait_for_status: 'yellow', timeout: '30s' });
  return mismatches;
}

/**
 * Creates or upgrades one index (idempotent, safe from several instances at once): its template
 * is PUT (shards, replicas and `settings`), a missing index created (a concurrent creation is
 * fine), an existing one given the current mappings (additive), the replicas and `update`. The
 * shard count of an existing index stays as created: a difference is returned.
 */
export async function ensureIndex(
  client: Client,
  index: string,
  spec: {
    mappings: object;
    shards: number;
    replicas: number;
    settings: Record<string, unknown>;
    update?: Record<string, unknown>;
  },
): Promise<ShardMismatch | undefined> {
  await client.indices.putIndexTemplate({
    name: index,
    body: {
      index_patterns: [index],
      priority: 500,
      _meta: { managed_by: 'stixgate', stixgate_mapping_version: MAPPING_VERSION },
      template: {
        settings: { number_of_shards: spec.shards, number_of_replicas: spec.replicas, ...spec.settings },
        mappings: spec.mappings,
      },
    },
  });
  const exists = await client.indices.exists({ index });
  if (!exists.body) {
    try {
      await client.indices.create({ index, body: {} });
    } catch (e) {
      if (errorType(e) !== 'resource_already_exists_exception') throw e;
    }
    return undefined;
  }
  await client.indices.putMapping({ index, body: spec.mappings });
  return applyIndexSettings(client, index, spec.shards, spec.replicas, spec.update);
}
