import { errorMessage } from '../../src/core/errors.js';
import { randomBytes } from 'node:crypto';
import { atomFeed, jsonFeed, type EaiEntry } from './sim-atom.js';
import { runQuery, type Doc } from './sim-kv-query.js';

/**
 * KV store collections for the Splunk simulator: `storage/collections/config` (EAI) and
 * `storage/collections/data/{c}[/{key}|/batch_save|/batch_find]` (JSON). Splunk's KV store REST API.
 */

export interface SimResponse {
  status: number;
  body: string;
  type: string;
  headers?: Record<string, string>;
}

export interface KvCollection {
  name: string;
  owner: string;
  app: string;
  fields: Record<string, string>;
  accelerated: Record<string, string>;
  enforceTypes: boolean;
  /** Documents by _key, in insertion order. */
  docs: Map<string, Doc>;
  /** How many times each _key was saved (a test counts deliveries per value). */
  saves: Map<string, number>;
}

export interface KvLimits {
  maxDocumentsPerBatchSave: number;
  maxSizePerBatchSaveMb: number;
  maxRowsPerQuery: number;
  maxQueriesPerBatch: number;
}

export const json = (status: number, v: unknown): SimResponse => ({
  status,
  body: JSON.stringify(v),
  type: 'application/json; charset=UTF-8',
});
export const messages = (status: number, text: string, type = 'ERROR'): SimResponse =>
  json(status, { messages: [{ type, text }] });

export const ES_INTEL_APP = 'DA-ESS-ThreatIntelligence';
export const ES_INTEL_COLLECTIONS: Record<string, string[]> = {
  ip_intel: ['ip', 'domain', 'description', 'weight', 'threat_key', 'time'],
  file_intel: ['file_hash', 'file_name', 'description', 'weight', 'threat_key', 'time'],
  http_intel: ['url', 'http_referrer', 'http_user_agent', 'description', 'weight', 'threat_key', 'time'],
  email_intel: ['src_user', 'subject', 'embedded_domain', 'description', 'weight', 'threat_key', 'time'],
  user_intel: ['user', 'description', 'weight', 'threat_key', 'time'],
  service_intel: [
    'service',
    'service_file_hash',
    'service_dll_file_hash',
    'description',
    'weight',
    'threat_key',
    'time',
  ],
  process_intel: ['process', 'process_file_name', 'description', 'weight', 'threat_key', 'time'],
  registry_intel: [
    'registry_path',
    'registry_value_name',
    'registry_value_text',
    'description',
    'weight',
    'threat_key',
    'time',
  ],
  certificate_intel: [
    'certificate_issuer',
    'certificate_subject',
    'certificate_serial',
    'certificate_issuer_organization',
    'description',
    'weight',
    'threat_key',
    'time',
  ],
};

export class KvStore {
  readonly collections: KvCollection[] = [];

  constructor(readonly limits: KvLimits) {}

  find(app: string, name: string): KvCollection | undefined {
    return this.collections.find((c) => c.name === name && (app === '-' || c.app === app));
  }

  create(owner: string, app: string, name: string, form: URLSearchParams = new URLSearchParams()): KvCollection {
    const c: KvCollection = {
      name,
      owner,
      app,
      fields: {},
      accelerated: {},
      enforceTypes: false,
      docs: new Map(),
      saves: new Map(),
    };
    this.configure(c, form);
    this.collections.push(c);
    return c;
  }

  private configure(c: KvCollection, form: URLSearchParams): void {
    for (const [k, v] of form) {
      if (k.startsWith('field.')) c.fields[k.slice(6)] = v;
      else if (k.startsWith('accelerated_fields.')) c.accelerated[k.slice(19)] = v;
      else if (k === 'enforceTypes') c.enforceTypes = v === 'true' || v === '1';
    }
  }

  entry(c: KvCollection): EaiEntry {
    const content: Record<string, string> = {
      disabled: '0',
      enforceTypes: String(c.enforceTypes),
      replicate: 'false',
      type: 'undefined',
    };
    for (const [k, v] of Object.entries(c.fields)) content[`field.${k}`] = v;
    for (const [k, v] of Object.entries(c.accelerated)) content[`accelerated_fields.${k}`] = v;
    return {
      name: c.name,
      path: `/servicesNS/${c.owner}/${c.app}/storage/collections/config/${encodeURIComponent(c.name)}`,
      owner: c.owner,
      app: c.app,
      sharing: 'app',
      content,
    };
  }

  private eai(
    base: string,
    feedPath: string,
    list: KvCollection[],
    jsonMode: boolean,
    version: string,
    status = 200,
  ): SimResponse {
    const entries = list.map((c) => this.entry(c));
    if (jsonMode) return json(status, jsonFeed(base, entries));
    return {
      status,
      body: atomFeed(base, 'collections-conf', feedPath, entries, version),
      type: 'text/xml; charset=UTF-8',
    };
  }

  /** `…/storage/collections/config[/{name}]`. */
  config(
    method: string,
    owner: string,
    app: string,
    name: string | undefined,
    form: URLSearchParams,
    q: URLSearchParams,
    ctx: { base: string; path: string; version: string },
  ): SimResponse {
    const jsonMode = q.get('output_mode') === 'json';
    const err = (status: number, text: string): SimResponse =>
      jsonMode
        ? messages(status, text)
        : {
            status,
            body: `<?xml version="1.0" encoding="UTF-8"?>\n<response><messages><msg type="ERROR">${text.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</msg></messages></response>`,
            type: 'text/xml; charset=UTF-8',
          };
    if (name === undefined) {
      if (method === 'GET') {
        const search = q.get('search') ?? form.get('search');
        const list = this.collections.filter(
          (c) => (app === '-' || c.app === app) && (!search || c.name.includes(search)),
        );
        return this.eai(ctx.base, ctx.path, list, jsonMode, ctx.version);
      }
      if (method === 'POST') {
        const n = form.get('name');
        if (!n) return err(400, 'Missing argument: name');
        if (app === '-' || owner === '-') return err(400, 'Cannot create a collection in a wildcard namespace');
        if (this.find(app, n)) return err(409, `An object with name=${n} already exists`);
        const c = this.create(owner, app, n, form);
        return this.eai(ctx.base, ctx.path, [c], jsonMode, ctx.version, 201);
      }
      return err(405, `Method ${method} not allowed`);
    }
    const c = this.find(app, name);
    if (!c) return err(404, `Could not find object id=${name}`);
    if (method === 'GET') return this.eai(ctx.base, ctx.path, [c], jsonMode, ctx.version);
    if (method === 'POST') {
      this.configure(c, form);
      return this.eai(ctx.base, ctx.path, [c], jsonMode, ctx.version);
    }
    if (method === 'DELETE') {
      this.collections.splice(this.collections.indexOf(c), 1);
      return this.eai(ctx.base, ctx.path, [], jsonMode, ctx.version);
    }
    return err(405, `Method ${method} not allowed`);
  }

  /** Applies the collection's field types; returns an error text when enforceTypes rejects. */
  private typed(c: KvCollection, doc: Doc): Doc | string {
    const out: Doc = {};
    for (const [k, v] of Object.entries(doc)) {
      const t = c.fields[k];
      let val: unknown = v;
      if ((t === 'number' || t === 'time') && typeof v !== 'number') {
        const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
        val = Number.isFinite(n) ? n : undefined;
      } else if (t === 'bool' && typeof v !== 'boolean') {
        val = v === 'true' || v === '1' || v === 1 ? true : v === 'false' || v === '0' || v === 0 ? false : undefined;
      }
      if (val === undefined && v !== undefined) {
        if (c.enforceTypes) return `Failed to convert field ${k} to type ${t}`;
        continue;
      }
      out[k] = val;
    }
    return out;
  }

  private save(c: KvCollection, doc: Doc, user: string): string | { error: string } {
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
      return { error: 'Document must be a JSON object' };
    const t = this.typed(c, doc);
    if (typeof t === 'string') return { error: t };
    const key = t._key === undefined ? randomBytes(12).toString('hex') : String(t._key);
    if (Object.keys(t).some((k) => k.includes('.') || k.startsWith('$')))
      return { error: 'Field names may not contain "." or start with "$"' };
    c.docs.set(key, { ...t, _key: key, _user: user });
    c.saves.set(key, (c.saves.get(key) ?? 0) + 1);
    return key;
  }

  /** `…/storage/collections/data/{c}[/{rest}]`. `partial` = documents of a batch_save to accept before failing. */
  data(
    method: string,
    app: string,
    name: string,
    rest: string | undefined,
    raw: Buffer,
    q: URLSearchParams,
    user: string,
    partial?: number,
  ): SimResponse {
    const c = this.find(app, name);
    if (!c) return messages(404, `Collection: ${name} does not exist`);
    let body: unknown;
    const parse = (): boolean => {
      try {
        body = JSON.parse(raw.toString('utf8'));
        return true;
      } catch {
        return false;
      }
    };
    if (rest === 'batch_save' && method === 'POST') {
      if (raw.length > this.limits.maxSizePerBatchSaveMb * 1024 * 1024)
        return messages(
          400,
          `Request exceeds API limits - see limits.conf for details. (Request size exceeds max_size_per_batch_save_mb=${this.limits.maxSizePerBatchSaveMb})`,
        );
      if (!parse() || !Array.isArray(body)) return messages(400, 'Request body must be a JSON array of documents');
      const docs = body as Doc[];
      if (docs.length > this.limits.maxDocumentsPerBatchSave)
        return messages(
          400,
          `Request exceeds API limits - see limits.conf for details. (Too many documents for a single batch save, max=${this.limits.maxDocumentsPerBatchSave})`,
        );
      const keys: string[] = [];
      for (const [i, d] of docs.entries()) {
        if (partial !== undefined && i >= partial)
          return messages(500, `Batch save failed at document ${i}: injected fault`);
        const r = this.save(c, d, user);
        if (typeof r !== 'string') return messages(400, `Batch save failed at document ${i}: ${r.error}`);
        keys.push(r);
      }
      return json(200, keys);
    }
    if (rest === 'batch_find' && method === 'POST') {
      if (!parse() || !Array.isArray(body)) return messages(400, 'Request body must be a JSON array of queries');
      if (body.length > this.limits.maxQueriesPerBatch)
        return messages(
          400,
          `Request exceeds API limits - see limits.conf for details. (Too many queries, max=${this.limits.maxQueriesPerBatch})`,
        );
      return json(
        200,
        (body as Doc[]).map((qq) =>
          runQuery(
            [...c.docs.values()],
            {
              query: qq.query as Doc | undefined,
              sort: qq.sort as string | undefined,
              limit: qq.limit as number | undefined,
              skip: qq.skip as number | undefined,
              fields: qq.fields as string | undefined,
            },
            this.limits.maxRowsPerQuery,
          ),
        ),
      );
    }
    if (rest === undefined) {
      if (method === 'GET') {
        let query: Doc | undefined;
        try {
          query = q.get('query') ? (JSON.parse(q.get('query') ?? '') as Doc) : undefined;
          return json(
            200,
            runQuery(
              [...c.docs.values()],
              {
                query,
                fields: q.get('fields') ?? undefined,
                sort: q.get('sort') ?? undefined,
                limit: q.has('limit') ? Number(q.get('limit')) : undefined,
                skip: q.has('skip') ? Number(q.get('skip')) : undefined,
              },
              this.limits.maxRowsPerQuery,
            ),
          );
        } catch (e) {
          return messages(400, `Invalid query: ${errorMessage(e)}`);
        }
      }
      if (method === 'POST') {
        if (!parse()) return messages(400, 'Malformed JSON in request body');
        const d = body as Doc;
        if (d && typeof d === 'object' && d._key !== undefined && c.docs.has(String(d._key)))
          return messages(409, 'A document with the same key and user already exists.');
        const r = this.save(c, d, user);
        return typeof r === 'string' ? json(201, { _key: r }) : messages(400, r.error);
      }
      if (method === 'DELETE') {
        let query: Doc | undefined;
        try {
          query = q.get('query') ? (JSON.parse(q.get('query') ?? '') as Doc) : undefined;
        } catch (e) {
          return messages(400, `Invalid query: ${errorMessage(e)}`);
        }
        for (const d of runQuery([...c.docs.values()], { query }, Number.MAX_SAFE_INTEGER))
          c.docs.delete(String(d._key));
        return { status: 200, body: '', type: 'application/json; charset=UTF-8' };
      }
      return messages(405, `Method ${method} not allowed`);
    }
    const key = rest;
    if (method === 'GET') {
      const d = c.docs.get(key);
      return d ? json(200, d) : messages(404, `Could not find object with id=${key}`);
    }
    if (method === 'POST') {
      if (!parse()) return messages(400, 'Malformed JSON in request body');
      const r = this.save(c, { ...(body as Doc), _key: key }, user);
      return typeof r === 'string' ? json(200, { _key: r }) : messages(400, r.error);
    }
    if (method === 'DELETE') {
      if (!c.docs.delete(key)) return messages(404, `Could not find object with id=${key}`);
      return { status: 200, body: '', type: 'application/json; charset=UTF-8' };
    }
    return messages(405, `Method ${method} not allowed`);
  }
}
