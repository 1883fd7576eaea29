import { at } from '../../src/core/indexed.js';
import { StixgateError } from '../../src/core/errors.js';
import type { CommonSinkConfig, Sink, SinkOutcome, SinkRecord, SinkRunContext } from '../../src/delivery/types.js';
import type { IntegrationContext } from '../../src/pipeline/types.js';
import { authHeader, SplunkRest, versionAtLeast } from './client.js';
import { KvClient, MAX_BATCH_SAVE_BYTES } from './kv.js';
import { esRoutes, fieldTypes, loadTable, typedDoc, type EsRoute } from './mapping.js';
import type { SplunkEsConfig } from './schema.js';
import { esReconciler } from './reconcile.js';

/**
 * `splunk_es`: Enterprise Security threat intelligence. Each value goes to the
 * ES KV collection its observable type is routed to (`routes` of mappings/sinks/splunk_es.yaml:
 * IPs and domains to `ip_intel` (`ip` / `domain`), URLs to `http_intel`, hashes to `file_intel`,
 * e-mail addresses to `email_intel`), written through the KV store API of app
 * DA-ESS-ThreatIntelligence with `_key` = the record key. `weight` is kept within ES's 1-100.
 * `time` is the push time (epoch seconds): ES retention deletes rows by `time`, so every push of a
 * still-listed value renews it. `threat_key` names the intel source(s) (mapping table).
 * The app and the collections belong to ES: the sink checks they exist and never creates them.
 */

const OLD_MAX_DOCS = 1000;

export function createSplunkEsSink(config: SplunkEsConfig & CommonSinkConfig, ictx: IntegrationContext): Sink {
  const table = loadTable('splunk_es', config.mapping, ictx);
  const routes = esRoutes(table);
  const types = fieldTypes(table, [...new Set(Object.values(routes).map((r) => r.field))]);
  const collections = [...new Set(Object.values(routes).map((r) => r.collection))];
  const rest = new SplunkRest(config.url, authHeader(config.auth), `splunk_es ${config.app}`);
  const kv = new KvClient(rest, config.owner, config.app, config.max_documents_per_batch_save);
  kv.missingHint = 'is Splunk Enterprise Security installed, and is `app` its threat-intelligence app?';
  const limits = {
    maxBatch: config.max_documents_per_batch_save,
    maxBytes: MAX_BATCH_SAVE_BYTES - 2,
    concurrency: config.concurrency ?? 4,
  };
  const docs = new WeakMap<SinkRecord, string>();
  const routeOf = (r: SinkRecord): EsRoute | undefined => routes[r.observable.type];
  /** The row without its closing brace; `time` (the push time) is appended when it is sent. */
  const rowOf = (r: SinkRecord, route: { field: string }): Record<string, unknown> => {
    const doc = typedDoc(r.fields, types);
    delete doc.time;
    if (typeof doc.weight === 'number') doc.weight = Math.min(100, Math.max(1, Math.round(doc.weight)));
    return { ...doc, [route.field]: r.observable.value };
  };
  const docOf = (r: SinkRecord, route: EsRoute): string => {
    let d = docs.get(r);
    if (d === undefined) {
      d = JSON.stringify({ ...rowOf(r, route), _key: r.key }).slice(0, -1);
      docs.set(r, d);
    }
    return d;
  };
  // ES retention ages rows out by `time`: every push renews it, so an active row is never purged
  const withTime = (d: string, now: number): string => `${d},"time":${Math.floor(now / 1000)}}`;
  const TIME_BYTES = ',"time":9999999999}'.length;
  const unrouted = (r: SinkRecord): SinkOutcome => ({
    status: 'reject',
    reason: `no ES threat-intel collection for ${r.observable.type} values (add a route in ${table.path}, or leave the type out of filters.types)`,
  });

  /** Indexes of the records per collection, in order. */
  const groups = (
    records: SinkRecord[],
    out: SinkOutcome[],
    orphan: (r: SinkRecord) => SinkOutcome,
  ): Map<string, number[]> => {
    const by = new Map<string, number[]>();
    records.forEach((r, i) => {
      const route = routeOf(r);
      if (!route) out[i] = orphan(r);
      else {
        const list = by.get(route.collection);
        if (list) list.push(i);
        else by.set(route.collection, [i]);
      }
    });
    return by;
  };

  return {
    limits,
    sizeOf: (r) => {
      const route = routeOf(r);
      return route ? Buffer.byteLength(docOf(r, route)) + TIME_BYTES + 1 : 0;
    },

    async prepare(ctx: SinkRunContext): Promise<void> {
      const version = kv.maxDocs > OLD_MAX_DOCS ? await kv.serverVersion(ctx) : undefined;
      if (kv.maxDocs > OLD_MAX_DOCS && !versionAtLeast(version, 9, 1)) {
        ctx.logger.warn(
          { sink: ctx.id, version, configured: kv.maxDocs },
          `Splunk ${version ?? '(unknown version)'} accepts at most ${OLD_MAX_DOCS} documents per batch_save; using ${OLD_MAX_DOCS}`,
        );
        kv.maxDocs = OLD_MAX_DOCS;
        limits.maxBatch = OLD_MAX_DOCS;
      }
      for (const c of collections) {
        if ((await kv.describe(ctx, c)) === undefined) {
          throw new StixgateError(
            'STIXGATE_ERR_SINK_PROTOCOL',
            `splunk_es: collection ${c} not found in app ${config.app}: ${kv.missingHint}`,
            { reason: 'es_missing' },
          );
        }
      }
    },

    async upsert(records: SinkRecord[], ctx: SinkRunContext): Promise<SinkOutcome[]> {
      const out: SinkOutcome[] = new Array(records.length);
      for (const [collection, idx] of groups(records, out, unrouted)) {
        const res = await kv.save(
          ctx,
          collection,
          idx.map((i) => {
            const r = at(records, i);
            const route = routeOf(r);
            // groups() puts only routed records in a collection
            if (!route) throw new Error(`Splunk KV: record ${r.key} grouped without a route`);
            return withTime(docOf(r, route), ctx.now);
          }),
        );
        for (const [j, i] of idx.entries()) out[i] = at(res, j);
      }
      return out;
    },

    async remove(records: SinkRecord[], ctx: SinkRunContext): Promise<SinkOutcome[]> {
      const out: SinkOutcome[] = new Array(records.length);
      // a value of an unrouted type was never pushed: nothing to take out
      for (const [collection, idx] of groups(records, out, () => ({ status: 'ok' }))) {
        await kv.deleteKeys(
          ctx,
          collection,
          [...new Set(idx.map((i) => at(records, i).key))],
          config.max_keys_per_delete,
        );
        for (const i of idx) out[i] = { status: 'ok' };
      }
      return out;
    },

    reconciler: esReconciler(kv, routes, rowOf, config.max_keys_per_delete),

    async probe(ctx: SinkRunContext): Promise<string> {
      const version = await kv.serverVersion(ctx);
      const found: string[] = [];
      for (const c of collections) if ((await kv.describe(ctx, c)) !== undefined) found.push(c);
      const lacking = collections.filter((c) => !found.includes(c));
      return `Splunk ${version ?? '?'}: ES collections ${found.join(', ') || '(none)'} in ${config.app}${lacking.length ? `; missing: ${lacking.join(', ')}` : ''}`;
    },
  };
}
