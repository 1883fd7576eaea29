import type { Client } from '@opensearch-project/opensearch';
import { StixgateError } from '../../core/errors.js';
import { isRecord } from '../../core/guards.js';
import { sendBulk, type WriteContext, type WriteReport } from './bulk.js';
import { statusOf, withRetry } from './client.js';
import { getCursor, setCursor, type MetaContext } from './leases.js';
import { MAPPING_VERSION, ensureIndex } from './mappings.js';

/** Index name of the shared correlation index: `<prefix>-links`. */
export const linksIndexName = (prefix: string): string => `${prefix}-links`;

/** One row of the correlation index as a document: `t` names its table, the rest are its columns. */
export type LinkDoc = { t: string } & Record<string, unknown>;

const isDoc = (v: unknown): v is LinkDoc => isRecord(v) && typeof v.t === 'string';
/** `v[k]` when `v` is an object (response bodies are read without trusting their shape). */
const field = (v: unknown, k: string): unknown => (isRecord(v) ? v[k] : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const sortValues = (v: unknown): (string | number)[] =>
  list(v).filter((x): x is string | number => typeof x === 'string' || typeof x === 'number');

/** A document id and what it holds: a document, or null for "absent". */
export type LinkImage = [id: string, doc: LinkDoc | null];

const long = { type: 'long' } as const;
const kw = { type: 'keyword' } as const;
const storedLong = { type: 'long', index: false, doc_values: false } as const;
const storedKw = { type: 'keyword', index: false, doc_values: false } as const;

/**
 * Rows of every correlation table (src/correlate/db.ts) under one mapping: the columns the walk
 * filters or sorts on are indexed; counters and names are kept in `_source` only. The `undo`
 * document holds the before-images of the publish in progress (see LinksIndex.publish).
 */
export const LINKS_MAPPINGS = {
  dynamic: 'strict',
  _meta: { stixgate_mapping_version: MAPPING_VERSION },
  properties: {
    t: kw,
    n: long,
    v: long,
    a: long,
    b: long,
    kind: long,
    owner: long,
    type: long,
    state: long,
    tlp: storedLong,
    id: kw,
    key: kw,
    name: storedKw,
    holders: storedLong,
    fan: storedLong,
    capped: long,
    addr: storedLong,
    x6: storedKw,
    family: storedLong,
    len: storedLong,
    rh: storedKw,
    mk: storedKw,
    mv: storedKw,
    k: storedLong,
    cnt: storedLong,
    prev: storedKw,
    u: { type: 'object', enabled: false },
  },
} as const;

export interface LinksContext {
  write: WriteContext;
  meta: MetaContext;
  index: string;
  settings: { shards: number; replicas: number; refreshInterval: string };
}

export interface LinkHit {
  doc: LinkDoc;
  sort: (string | number)[];
}

const UNDO_ID = 'undo';
const MGET_CHUNK = 1000;

/** Creates or upgrades the links template and index (idempotent, as ensureIndices). */
export async function ensureLinksIndex(client: Client, index: string, s: LinksContext['settings']): Promise<void> {
  // replicas follow the configuration; a different shard count stays as created (docs/opensearch.md)
  await ensureIndex(client, index, {
    mappings: LINKS_MAPPINGS,
    shards: s.shards,
    replicas: s.replicas,
    settings: { refresh_interval: s.refreshInterval, codec: 'best_compression' },
  });
  await client.cluster.health({ index, wait_for_status: 'yellow', timeout: '30s' });
}

/**
 * The correlation index's documents in `<prefix>-links`: one document per row of the SQLite
 * index the lease holder computes (src/correlate/opensearch-writer.ts), `_id` = table and primary
 * key, so writing the same state twice is idempotent. Readers walk it with term queries.
 */
export class LinksIndex {
  private ensured = false;

  constructor(private readonly ctx: () => LinksContext) {}

  get name(): string {
    return this.ctx().index;
  }

  /** The same store's links under another index name (a second, independent index: tests, re-builds). */
  withIndex(index: string): LinksIndex {
    return new LinksIndex(() => ({ ...this.ctx(), index }));
  }

  /** The name of this index's writer cursor (in the meta index) and of its writer's lease. */
  get cursorName(): string {
    return `correlation:${this.name}`;
  }

  async ensure(): Promise<void> {
    if (this.ensured) return;
    const c = this.ctx();
    await withRetry(c.write.node, 'links index set-up', c.write.policy, () =>
      ensureLinksIndex(c.write.client, c.index, c.settings),
    );
    this.ensured = true;
  }

  /** The published cursor of the correlation writer (an opaque JSON string), or undefined. */
  async cursor(): Promise<string | undefined> {
    return getCursor(this.ctx().meta, this.cursorName);
  }

  /** The stored documents of `ids` (realtime GETs: no refresh needed). */
  async get(ids: readonly string[]): Promise<Map<string, LinkDoc>> {
    const c = this.ctx();
    const out = new Map<string, LinkDoc>();
    for (let i = 0; i < ids.length; i += MGET_CHUNK) {
      const chunk = ids.slice(i, i + MGET_CHUNK);
      const r = await withRetry(c.write.node, 'links mget', c.write.policy, () =>
        c.write.client.mget({ index: c.index, body: { ids: chunk } }),
      );
      for (const d of list(field(r.body, 'docs'))) {
        const id = field(d, '_id');
        const source = field(d, '_source');
        if (field(d, 'found') === true && typeof id === 'string' && isDoc(source)) out.set(id, source);
      }
    }
    return out;
  }

  /** Writes documents and deletes the absent ones; throws unless every item succeeded. */
  async put(images: readonly LinkImage[]): Promise<number> {
    if (images.length === 0) return 0;
    const c = this.ctx();
    const ops = images.map(([id, doc]) => ({
      id,
      line: doc
        ? `${JSON.stringify({ index: { _index: c.index, _id: id } })}\n${JSON.stringify(doc)}\n`
        : `${JSON.stringify({ delete: { _index: c.index, _id: id } })}\n`,
    }));
    const report: WriteReport = { written: new Map(), rejected: new Map(), requests: 0, conflicts: 0, retried: 0 };
    const results = await sendBulk(c.write, ops, report);
    results.forEach((r, i) => {
      if (r.status < 300 || r.status === 404) return;
      throw new StixgateError(
        'STIXGATE_ERR_STORE_UNAVAILABLE',
        `OpenSearch: links index ${c.index} refused ${ops[i]?.id ?? '?'}: HTTP ${r.status} ${r.errorType ?? ''} ${r.errorReason ?? ''}`,
        { retryable: r.status === 429 || r.status >= 500, reason: 'links_write' },
      );
    });
    return images.length;
  }

  /**
   * Publishes one step of the writer: the before-images of `images` (read from the index) go to
   * the undo document first, then the new images, then the cursor. A writer that dies in between
   * leaves an undo document naming the cursor it started from; `rollBack` restores it.
   */
  async publish(images: readonly LinkImage[], prevCursor: string, nextCursor: string): Promise<number> {
    const stored = await this.get(images.map(([id]) => id));
    const before = images.map(([id]) => ({ i: id, d: stored.get(id) ?? null }));
    await this.put([[UNDO_ID, { t: 'undo', prev: prevCursor, u: before }]]);
    const n = await this.put(images);
    await setCursor(this.ctx().meta, this.cursorName, nextCursor);
    return n;
  }

  /**
   * Undoes a publish that did not reach its cursor: when the undo document was written against
   * the current cursor, its before-images are written back. True when something was restored.
   */
  async rollBack(): Promise<boolean> {
    const cur = (await this.cursor()) ?? '';
    const undo = (await this.get([UNDO_ID])).get(UNDO_ID);
    if (!undo || undo.prev !== cur) return false;
    const images: LinkImage[] = [];
    for (const x of list(undo.u)) {
      const id = field(x, 'i');
      const doc = field(x, 'd');
      if (typeof id === 'string') images.push([id, isDoc(doc) ? doc : null]);
    }
    await this.put(images);
    await this.put([[UNDO_ID, null]]);
    return true;
  }

  /** Every row document, page by page (a scroll), for a writer taking over. */
  async scan(onPage: (docs: LinkDoc[]) => void, pageSize = 5000): Promise<number> {
    const c = this.ctx();
    const client = c.write.client;
    // a scroll reads what is searchable: the last writes are made so first
    await this.refresh();
    let seen = 0;
    let r = await withRetry(c.write.node, 'links scan', c.write.policy, () =>
      client.search({
        index: c.index,
        scroll: '2m',
        size: pageSize,
        body: { query: { bool: { must_not: { term: { t: 'undo' } } } }, sort: ['_doc'] },
      }),
    );
    let scrollId: string | undefined;
    try {
      for (;;) {
        const sid = field(r.body, '_scroll_id');
        scrollId = typeof sid === 'string' ? sid : undefined;
        const docs = list(field(field(r.body, 'hits'), 'hits'))
          .map((h) => field(h, '_source'))
          .filter(isDoc);
        if (docs.length === 0) return seen;
        onPage(docs);
        seen += docs.length;
        const id = scrollId;
        if (id === undefined) return seen;
        r = await withRetry(c.write.node, 'links scan', c.write.policy, () =>
          client.scroll({ body: { scroll_id: id, scroll: '2m' } }),
        );
      }
    } finally {
      const id = scrollId;
      if (id !== undefined) await client.clearScroll({ body: { scroll_id: id } }).catch(() => undefined);
    }
  }

  /**
   * Documents of table `t` matching `filter` (a term, or terms for an array, per field), none of
   * `not`, and each `prefix`, in `sort` order (ascending), at most `size`, after `after`.
   */
  async search(
    t: string,
    filter: Record<string, string | number | readonly (string | number)[]>,
    sort: readonly string[],
    size: number,
    after?: (string | number)[],
    not?: Record<string, string | number>,
    prefix?: Record<string, string>,
  ): Promise<LinkHit[]> {
    const c = this.ctx();
    const must: object[] = [{ term: { t } }];
    for (const [f, v] of Object.entries(filter))
      must.push(Array.isArray(v) ? { terms: { [f]: v } } : { term: { [f]: v } });
    for (const [f, v] of Object.entries(prefix ?? {})) must.push({ prefix: { [f]: v } });
    const mustNot = Object.entries(not ?? {}).map(([f, v]) => ({ term: { [f]: v } }));
    const r = await withRetry(c.write.node, 'links search', c.write.policy, async () => {
      try {
        return await c.write.client.search({
          index: c.index,
          body: {
            size,
            query: { bool: { filter: must, must_not: mustNot } },
            sort: sort.map((s) => ({ [s]: 'asc' })),
            track_total_hits: false,
            ...(after ? { search_after: after } : {}),
          },
        });
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw e;
      }
    });
    if (!r) return [];
    const out: LinkHit[] = [];
    for (const h of list(field(field(r.body, 'hits'), 'hits'))) {
      const doc = field(h, '_source');
      if (isDoc(doc)) out.push({ doc, sort: sortValues(field(h, 'sort')) });
    }
    return out;
  }

  /** How many documents of table `t` match `filter`, counting at most `limit`. */
  async count(t: string, filter: Record<string, string | number>, limit: number): Promise<number> {
    const hits = await this.search(t, filter, ['_doc'], limit);
    return hits.length;
  }

  /** Makes every write so far visible to searches (tests and hand-over). */
  async refresh(): Promise<void> {
    const c = this.ctx();
    await withRetry(c.write.node, 'links refresh', c.write.policy, () =>
      c.write.client.indices.refresh({ index: c.index }),
    );
  }

  /** Deletes the index (store destroy, tests). */
  async destroy(): Promise<void> {
    const c = this.ctx();
    await c.write.client.indices.deleteIndexTemplate({ name: c.index }).catch(() => undefined);
    await c.write.client.indices.delete({ index: c.index, ignore_unavailable: true });
    this.ensured = false;
  }
}
