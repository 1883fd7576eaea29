import { at } from '../../src/core/indexed.js';
import { safeJsonParse } from '../../src/core/safe-json.js';
import { StixgateError } from '../../src/core/errors.js';
import type { SinkOutcome, SinkRunContext } from '../../src/delivery/types.js';
import { enc, messagesOf, protocolError, type SplunkRest } from './client.js';
import type { KvFieldType } from './mapping.js';

/**
 * KV store operations shared by the `splunk_kv` and `splunk_es` sinks (Splunk's KV store REST API):
 * collection set-up, `batch_save` upserts that isolate refused documents, and removal by key.
 */

/** limits.conf [kvstore] max_size_per_batch_save_mb (50 in every version). */
export const MAX_BATCH_SAVE_BYTES = 50 * 1024 * 1024;

export interface CollectionSpec {
  fields: Record<string, KvFieldType>;
  accelerated: Record<string, string>;
  enforceTypes: boolean;
  replicate: boolean;
}

interface EaiEntry {
  content?: Record<string, unknown>;
}

const TOO_MANY = /Too many documents for a single batch save, max=(\d+)/;

export class KvClient {
  /** Documents per batch_save; lowered when the server reports a smaller limit. */
  maxDocs: number;
  /** What the message of a missing collection tells the operator. */
  missingHint = 'it is created again before the next push';

  constructor(
    readonly rest: SplunkRest,
    readonly owner: string,
    readonly app: string,
    maxDocs: number,
  ) {
    this.maxDocs = maxDocs;
  }

  private ns(kind: 'config' | 'data', collection?: string, rest?: string): string {
    let p = `/servicesNS/${enc(this.owner)}/${enc(this.app)}/storage/collections/${kind}`;
    if (collection !== undefined) p += `/${enc(collection)}`;
    if (rest !== undefined) p += `/${rest}`;
    return p;
  }

  /** The data path of a collection (queries, deletes). */
  dataPath(collection: string): string {
    return this.ns('data', collection);
  }

  /** The version `/services/server/info` reports. */
  async serverVersion(ctx: SinkRunContext): Promise<string | undefined> {
    const r = await this.rest.call(ctx, { method: 'GET', path: '/services/server/info', idempotent: true });
    try {
      const v = (JSON.parse(r.text) as { entry?: EaiEntry[] }).entry?.[0]?.content?.version;
      return typeof v === 'string' ? v : undefined;
    } catch {
      throw protocolError(this.rest.component, 'server/info answered something other than JSON');
    }
  }

  /** The collection's `content` (field.*, accelerated_fields.*), or undefined when it does not exist. */
  async describe(ctx: SinkRunContext, name: string): Promise<Record<string, unknown> | undefined> {
    const r = await this.rest.call(ctx, { method: 'GET', path: this.ns('config', name), ok: [404], idempotent: true });
    if (r.status === 404) {
      // splunkd answers 404 "Application does not exist: <app>" for a namespace whose app is not installed
      const detail = messagesOf(r.text);
      if (/application does not exist/i.test(detail)) {
        throw new StixgateError(
          'STIXGATE_ERR_CONFIG_INVALID',
          `${this.rest.component}: app ${this.app} does not exist on ${this.rest.base} (${detail}); check the sink's \`app\``,
          { reason: 'app_missing' },
        );
      }
      return undefined;
    }
    try {
      return (JSON.parse(r.text) as { entry?: EaiEntry[] }).entry?.[0]?.content ?? {};
    } catch {
      throw protocolError(this.rest.component, `collection config of ${name} is not JSON`);
    }
  }

  /** Creates the collection with its fields, or adds the fields/accelerations it lacks. Idempotent. */
  async ensureCollection(
    ctx: SinkRunContext,
    name: string,
    spec: CollectionSpec,
  ): Promise<'created' | 'updated' | 'unchanged'> {
    const content = await this.describe(ctx, name);
    const wanted: [string, string][] = [
      ...Object.entries(spec.fields).map(([f, t]): [string, string] => [`field.${f}`, t]),
      ...Object.entries(spec.accelerated).map(([n, j]): [string, string] => [`accelerated_fields.${n}`, j]),
    ];
    if (content === undefined) {
      const form = new URLSearchParams([
        ['name', name],
        ...wanted,
        ['enforceTypes', String(spec.enforceTypes)],
        ['replicate', String(spec.replicate)],
      ]);
      const r = await this.rest.call(ctx, {
        method: 'POST',
        path: this.ns('config'),
        form,
        ok: [409],
        idempotent: true,
      });
      if (r.status === 409) return this.ensureCollection(ctx, name, spec); // created meanwhile: check its fields
      return 'created';
    }
    const missing = wanted.filter(([k, v]) => content[k] !== v);
    if (missing.length === 0) return 'unchanged';
    await this.rest.call(ctx, {
      method: 'POST',
      path: this.ns('config', name),
      form: new URLSearchParams(missing),
      idempotent: true,
    });
    return 'updated';
  }

  /**
   * `batch_save` of serialised documents. A 400 for the whole request is narrowed down by halving
   * until the refused documents stand alone: those are rejected, the rest saved.
   */
  async save(ctx: SinkRunContext, collection: string, docs: string[]): Promise<SinkOutcome[]> {
    const out: SinkOutcome[] = new Array(docs.length);
    let start = 0;
    let bytes = 2;
    const flush = async (end: number) => {
      if (end > start) await this.saveRange(ctx, collection, docs, start, end, out);
      start = end;
      bytes = 2;
    };
    for (let i = 0; i < docs.length; i++) {
      const size = Buffer.byteLength(at(docs, i)) + 1;
      if (i > start && (i - start >= this.maxDocs || bytes + size > MAX_BATCH_SAVE_BYTES)) await flush(i);
      bytes += size;
    }
    await flush(docs.length);
    return out;
  }

  private async saveRange(
    ctx: SinkRunContext,
    collection: string,
    docs: string[],
    from: number,
    to: number,
    out: SinkOutcome[],
  ): Promise<void> {
    if (to - from > this.maxDocs) {
      const mid = from + this.maxDocs;
      await this.saveRange(ctx, collection, docs, from, mid, out);
      await this.saveRange(ctx, collection, docs, mid, to, out);
      return;
    }
    const body = `[${docs.slice(from, to).join(',')}]`;
    const r = await this.rest.call(ctx, {
      method: 'POST',
      path: this.ns('data', collection, 'batch_save'),
      json: body,
      ok: [400, 404],
      idempotent: true,
    });
    if (r.status === 404) throw this.missing(collection, messagesOf(r.text));
    if (r.status === 400) {
      const text = messagesOf(r.text);
      const limit = TOO_MANY.exec(text);
      if (limit && Number(limit[1]) >= 1 && Number(limit[1]) < to - from) {
        this.maxDocs = Number(limit[1]);
        ctx.logger.warn(
          { sink: ctx.id, max: this.maxDocs },
          'KV store batch_save limit is lower than configured; using the server limit',
        );
        return this.saveRange(ctx, collection, docs, from, to, out);
      }
      if (to - from === 1) {
        out[from] = { status: 'reject', reason: `batch_save refused the document: ${text}` };
        return;
      }
      const mid = from + Math.ceil((to - from) / 2);
      await this.saveRange(ctx, collection, docs, from, mid, out);
      await this.saveRange(ctx, collection, docs, mid, to, out);
      return;
    }
    for (let i = from; i < to; i++) out[i] = { status: 'ok' };
  }

  /**
   * Removes documents by `_key` with `DELETE …/data/{c}?query={"$or":[{"_key":…},…]}`, `perRequest`
   * keys at a time. Keys already gone, or a collection that no longer exists, are removals done.
   */
  async deleteKeys(ctx: SinkRunContext, collection: string, keys: string[], perRequest: number): Promise<void> {
    for (let i = 0; i < keys.length; i += perRequest) {
      const chunk = keys.slice(i, i + perRequest);
      const query = chunk.length === 1 ? { _key: chunk[0] } : { $or: chunk.map((k) => ({ _key: k })) };
      await this.rest.call(ctx, {
        method: 'DELETE',
        path: this.ns('data', collection),
        query: { query: JSON.stringify(query) },
        ok: [404],
        idempotent: true,
      });
    }
  }

  /** Documents held (for probes): one `GET …/data/{c}?limit=…&fields=_key`. */
  async count(ctx: SinkRunContext, collection: string, limit: number): Promise<number> {
    const r = await this.rest.call(ctx, {
      method: 'GET',
      path: this.ns('data', collection),
      query: { fields: '_key', limit: String(limit) },
      ok: [404],
      idempotent: true,
    });
    if (r.status === 404) throw this.missing(collection, messagesOf(r.text));
    const v = safeJsonParse(r.text);
    if (!v.ok) {
      throw protocolError(
        this.rest.component,
        `collection ${collection} answered a key listing with something other than JSON (${v.message})`,
      );
    }
    return Array.isArray(v.value) ? v.value.length : 0;
  }

  missing(collection: string, detail: string): StixgateError {
    return protocolError(
      this.rest.component,
      `collection ${collection} does not exist in app ${this.app} (${detail}); ${this.missingHint}`,
    );
  }
}
