import { at } from '../../src/core/indexed.js';
import { join, resolve } from 'node:path';
import { StixgateError } from '../../src/core/errors.js';
import { loadSinkMapping } from '../../src/delivery/records.js';
import { s, type Schema } from '../../src/core/schema.js';
import type {
  CommonSinkConfig,
  Sink,
  SinkLimits,
  SinkOutcome,
  SinkRecord,
  SinkRunContext,
} from '../../src/delivery/types.js';
import type { IntegrationContext } from '../../src/pipeline/types.js';
import { QradarClient } from './client.js';
import { Chunker } from './chunker.js';
import { SET_ELEMENT_TYPES, loadRoutes, refusedValue, routeKeyOf, valueKey, type SetRoute } from './routing.js';
import { ROUTE_KEYS, checkQradarConfig, type QradarConfig, type RouteKey } from './schema.js';
import type { PushItem, SetApi } from './set-api.js';
import { LegacySets } from './sink-legacy.js';
import { CollectionSets } from './sink-collections.js';
import { checkRights } from './rights.js';
import { qradarReconciler } from './reconcile.js';

/**
 * The QRadar reference-set sink. Each observable value goes to the set its routing key names
 * (mappings/sinks/qradar.yaml `sets:`); adds are bulk (legacy bulk_load or the collections bulk
 * task), removals delete single values. Both are idempotent: a set holds a value once, adding it
 * again refreshes last_seen (and so its LAST_SEEN time to live), deleting an absent value is a 404
 * taken as success.
 */

/** reference_data_collections is served from API 16.0 (QRadar 7.4.3). */
export const COLLECTIONS_FROM = 16;

/**
 * IBM documents no batch limit. The default chunk of 1,000 values sits in the
 * range clients use (demisto and MineMeld 50, recommendations 1,000–5,000) and keeps a bulk_load
 * body far below the 413 of a proxy for 2 KB URLs (~2 MB); 10,000 is the top of the adaptive ladder.
 * Two requests in flight: the console applies loads per set serially, more only queues there.
 */
export const QRADAR_LIMITS: SinkLimits = { maxBatch: 10_000, concurrency: 2 };

/** The sink, plus what its adaptive chunking measured (for benchmark reports). */
export interface QradarSink extends Sink {
  chunking(): { size: number; measured: Record<number, number> };
}

const observableTypeOf = (k: RouteKey): string =>
  k.startsWith('file-') ? 'file' : k.startsWith('x509-') ? 'x509-certificate' : k.replace(/-cidr$/, '-addr');

/** The sections of the QRadar table next to `fields`: `sets`, one reference set per routing key. */
export const QRADAR_MAPPING_SECTIONS: Record<string, Schema<unknown>> = {
  sets: s.object(
    Object.fromEntries(
      ROUTE_KEYS.map((k) => [
        k,
        s.object(
          { name: s.string({ minLength: 1, maxLength: 255 }), element_type: s.enum(SET_ELEMENT_TYPES) },
          { optional: true },
        ),
      ]),
    ),
    { description: 'routing key → { name, element_type }' },
  ),
};

/** `clock`: the monotonic milliseconds adaptive chunking measures requests with (a virtual clock in tests). */
export function createQradarSink(
  config: QradarConfig & CommonSinkConfig,
  ictx: IntegrationContext,
  opts: { clock?: () => number } = {},
): QradarSink {
  const issues = checkQradarConfig(config);
  if (issues.length)
    throw new StixgateError(
      'STIXGATE_ERR_CONFIG_INVALID',
      `qradar sink: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    );
  const mappingPath = config.mapping
    ? resolve(ictx.configDir, config.mapping)
    : join(ictx.mappingsDir, 'sinks', 'qradar.yaml');
  const mapping = loadSinkMapping(mappingPath, QRADAR_MAPPING_SECTIONS);
  const routes = loadRoutes(mapping.table, mappingPath, config.set_prefix, config.sets);
  const client = new QradarClient(config.url, {
    token: config.token,
    username: config.username,
    password: config.password,
  });
  const chunker = new Chunker(config.chunk_size, config.adaptive_chunking, undefined, undefined, opts.clock);
  const wanted = (): SetRoute[] => {
    const types: string[] = config.filters?.types ?? [];
    return [...routes.values()].filter(
      (r) => (types.length === 0 || types.includes(observableTypeOf(r.key))) && !unserved(r),
    );
  };
  /** Legacy reference sets have no CIDR element type (IBM: ALN, ALNIC, IP, NUM, PORT, DATE). */
  const unserved = (r: SetRoute): boolean => generation === 'legacy' && r.elementType === 'CIDR';
  let api: SetApi | undefined;
  let generation: 'collections' | 'legacy' | undefined;

  async function connect(ctx: SinkRunContext): Promise<SetApi> {
    if (api) return api;
    client.version = config.api_version === 'auto' ? await client.detectVersion(ctx) : config.api_version;
    generation =
      config.api === 'auto' ? (Number(client.version) >= COLLECTIONS_FROM ? 'collections' : 'legacy') : config.api;
    if (generation === 'collections' && Number(client.version) < COLLECTIONS_FROM) {
      throw new StixgateError(
        'STIXGATE_ERR_CONFIG_INVALID',
        `qradar sink ${ctx.id}: api: collections needs API version ${COLLECTIONS_FROM}.0 or later, the console speaks ${client.version}`,
      );
    }
    if (generation === 'legacy' && config.tenant_id !== undefined)
      throw new StixgateError(
        'STIXGATE_ERR_CONFIG_INVALID',
        `qradar sink ${ctx.id}: tenant_id needs reference_data_collections (API ${COLLECTIONS_FROM}.0 or later); the legacy reference_data/sets live in the SHARED namespace`,
        { location: { path: 'tenant_id' } },
      );
    if (generation === 'legacy' && config.domain_id !== undefined && Number(client.version) < 26) {
      throw new StixgateError(
        'STIXGATE_ERR_CONFIG_INVALID',
        `qradar sink ${ctx.id}: domain_id on the legacy reference_data/sets needs API 26.0 (bulk_load/{namespace}/{name}/{domain_id}); API ${client.version} has bulk_load/{name} only, which tags no domain. Use api: collections`,
        { location: { path: 'domain_id' } },
      );
    }
    const common = {
      ttlDays: config.ttl_days,
      deleteConcurrency: config.delete_concurrency,
      chunker,
      domainId: config.domain_id,
      tenantId: config.tenant_id,
    };
    api =
      generation === 'collections'
        ? new CollectionSets(client, { ...common, taskTimeoutMs: config.task_timeout_secs * 1000 })
        : new LegacySets(client, common);
    return api;
  }

  /** Groups records by set (one item per distinct value), answering unroutable or invalid values at once. */
  function plan(records: SinkRecord[]): {
    out: SinkOutcome[];
    groups: Map<SetRoute, { items: PushItem[]; index: number[][] }>;
  } {
    const out = new Array<SinkOutcome>(records.length);
    const groups = new Map<SetRoute, { items: PushItem[]; index: number[][]; seen: Map<string, number> }>();
    records.forEach((r, i) => {
      const key = routeKeyOf(r.observable);
      const route = key && routes.get(key as RouteKey);
      if (!route) {
        out[i] = {
          status: 'reject',
          reason: `no QRadar reference set is mapped for ${key ?? r.observable.type} (${mappingPath})`,
        };
        return;
      }
      if (unserved(route)) {
        out[i] =
          r.op === 'remove'
            ? { status: 'ok' }
            : {
                status: 'reject',
                reason: `set "${route.name}" (CIDR): QRadar's reference_data/sets has no CIDR element type (ALN, ALNIC, IP, NUM, PORT, DATE only); CIDR ranges need api: collections (reference_data_collections, API ${COLLECTIONS_FROM}.0 or later)`,
              };
        return;
      }
      const refused = refusedValue(route.elementType, r.observable.value);
      if (refused) {
        out[i] =
          r.op === 'remove'
            ? { status: 'ok' }
            : { status: 'reject', reason: `set "${route.name}" (${route.elementType}): ${refused}` };
        return;
      }
      let g = groups.get(route);
      if (!g) {
        g = { items: [], index: [], seen: new Map() };
        groups.set(route, g);
      }
      const vk = valueKey(route.elementType, r.observable.value);
      const pos = g.seen.get(vk);
      if (pos !== undefined) at(g.index, pos).push(i);
      else {
        g.seen.set(vk, g.items.length);
        g.items.push({ value: r.observable.value, fields: r.fields });
        g.index.push([i]);
      }
    });
    return { out, groups };
  }

  async function apply(records: SinkRecord[], ctx: SinkRunContext, op: 'add' | 'remove'): Promise<SinkOutcome[]> {
    const a = await connect(ctx);
    const { out, groups } = plan(records);
    for (const [route, g] of groups) {
      const res =
        op === 'add'
          ? await a.add(ctx, route, g.items)
          : await a.remove(
              ctx,
              route,
              g.items.map((x) => x.value),
            );
      res.forEach((o, j) => {
        for (const i of at(g.index, j)) out[i] = o;
      });
    }
    return out;
  }

  return {
    chunking: () => ({ size: chunker.size(), measured: chunker.measured() }),
    limits: {
      ...QRADAR_LIMITS,
      maxBatch: config.adaptive_chunking ? QRADAR_LIMITS.maxBatch : Math.min(QRADAR_LIMITS.maxBatch, config.chunk_size),
    },
    // values age out ttl_days after their last push (LAST_SEEN): the engine re-sends still-valid ones before
    remoteTtlMs: config.ttl_days ? config.ttl_days * 86_400_000 : undefined,
    async prepare(ctx) {
      const a = await connect(ctx);
      await a.ensure(ctx, wanted());
    },
    upsert: (records, ctx) => apply(records, ctx, 'add'),
    reconciler: qradarReconciler({
      client,
      connect,
      generation: () => generation,
      routes: wanted,
      byKey: routes,
      source: mapping.fields.source?.startsWith('=') ? mapping.fields.source.slice(1) : undefined,
      domainId: config.domain_id,
    }),
    remove: (records, ctx) => apply(records, ctx, 'remove'),
    async probe(ctx) {
      await connect(ctx);
      const about = await client.call(ctx, { method: 'GET', path: '/system/about' });
      const v = (about.body as { external_version?: unknown } | undefined)?.external_version;
      if (generation === undefined) throw new Error('QRadar API generation unknown after connecting');
      const rights = await checkRights(ctx, client, generation);
      return `QRadar ${typeof v === 'string' ? v : '(version unknown)'}, REST API ${client.version}, ${generation === 'collections' ? 'reference_data_collections' : 'reference_data/sets'}; ${wanted().length} sets; ${rights}`;
    },
  };
}
