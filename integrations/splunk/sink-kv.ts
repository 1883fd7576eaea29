import type { CommonSinkConfig, Sink, SinkOutcome, SinkRecord, SinkRunContext } from '../../src/delivery/types.js';
import type { IntegrationContext } from '../../src/pipeline/types.js';
import { authHeader, SplunkRest, versionAtLeast } from './client.js';
import { KvClient, MAX_BATCH_SAVE_BYTES } from './kv.js';
import { acceleratedFields, fieldTypes, loadTable, typedDoc } from './mapping.js';
import type { SplunkKvConfig } from './schema.js';
import { kvReconciler } from './reconcile.js';

/**
 * `splunk_kv`: one KV store document per observable value in a collection of the sink's own
 * (created with the field types of the mapping table), `_key` = the record key. Upserts are
 * `batch_save`s (≤ max_documents_per_batch_save documents, ≤ 50 MB), removals delete by key.
 */

/** Splunk ≤ 9.0 refuses batch_save requests of more than 1000 documents. */
const OLD_MAX_DOCS = 1000;

export function createSplunkKvSink(config: SplunkKvConfig & CommonSinkConfig, ictx: IntegrationContext): Sink {
  const table = loadTable('splunk_kv', config.mapping, ictx);
  const types = fieldTypes(table);
  const accelerated = acceleratedFields(table);
  const rest = new SplunkRest(config.url, authHeader(config.auth), `splunk_kv ${config.app}/${config.collection}`);
  const kv = new KvClient(rest, config.owner, config.app, config.max_documents_per_batch_save);
  const limits = {
    maxBatch: config.max_documents_per_batch_save,
    maxBytes: MAX_BATCH_SAVE_BYTES - 2,
    concurrency: config.concurrency ?? 4,
  };
  const docs = new WeakMap<SinkRecord, string>();
  const docOf = (r: SinkRecord): string => {
    let d = docs.get(r);
    if (d === undefined) {
      const doc = typedDoc(r.fields, types);
      doc._key = r.key;
      d = JSON.stringify(doc);
      docs.set(r, d);
    }
    return d;
  };

  return {
    limits,
    sizeOf: (r) => Buffer.byteLength(docOf(r)) + 1,

    async prepare(ctx: SinkRunContext): Promise<void> {
      if (kv.maxDocs > OLD_MAX_DOCS) {
        const version = await kv.serverVersion(ctx);
        if (!versionAtLeast(version, 9, 1)) {
          ctx.logger.warn(
            { sink: ctx.id, version, configured: kv.maxDocs },
            `Splunk ${version ?? '(unknown version)'} accepts at most ${OLD_MAX_DOCS} documents per batch_save; using ${OLD_MAX_DOCS}`,
          );
          kv.maxDocs = OLD_MAX_DOCS;
          limits.maxBatch = OLD_MAX_DOCS;
        }
      }
      const what = await kv.ensureCollection(ctx, config.collection, {
        fields: types,
        accelerated,
        enforceTypes: config.enforce_types,
        replicate: config.replicate,
      });
      if (what !== 'unchanged')
        ctx.logger.info({ sink: ctx.id, collection: config.collection }, `KV store collection ${what}`);
    },

    upsert: (records: SinkRecord[], ctx: SinkRunContext): Promise<SinkOutcome[]> =>
      kv.save(ctx, config.collection, records.map(docOf)),

    async remove(records: SinkRecord[], ctx: SinkRunContext): Promise<SinkOutcome[]> {
      await kv.deleteKeys(ctx, config.collection, [...new Set(records.map((r) => r.key))], config.max_keys_per_delete);
      return records.map(() => ({ status: 'ok' }));
    },

    reconciler: kvReconciler(kv, config.collection, (r) => typedDoc(r.fields, types), config.max_keys_per_delete),

    async probe(ctx: SinkRunContext): Promise<string> {
      const version = await kv.serverVersion(ctx);
      const content = await kv.describe(ctx, config.collection);
      if (!content)
        return `Splunk ${version ?? '?'}: collection ${config.app}/${config.collection} does not exist yet (created on the first push)`;
      const n = await kv.count(ctx, config.collection, 10_001);
      return `Splunk ${version ?? '?'}: collection ${config.app}/${config.collection} holds ${n > 10_000 ? 'more than 10000' : n} documents`;
    },
  };
}
