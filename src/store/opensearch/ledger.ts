import type { Client } from '@opensearch-project/opensearch';
import { StixgateError } from '../../core/errors.js';
import { backoffDelay } from '../../core/backoff.js';
import { at } from '../../core/indexed.js';
import { LEDGER_STATES, type LedgerRow, type LedgerUpdate } from '../ledger.js';
import { sendBulk, type WriteContext, type WriteReport } from './bulk.js';
import { sleep, statusOf, withRetry } from './client.js';
import { metaId, type MetaContext } from './leases.js';
import {
  committedState,
  field,
  ledgerDocId,
  ledgerDocOf,
  ledgerKeyOf,
  nextDoc,
  rowOf,
  type LedgerDoc,
} from './ledger-docs.js';
import { MAPPING_VERSION, ensureIndex, type ShardMismatch } from './mappings.js';
import { deleteVersions } from './retention.js';

const PRESENT = LEDGER_STATES.indexOf('present');

/** Index name of the ledger: `<prefix>-ledger`. */
export const ledgerIndexName = (prefix: string): string => `${prefix}-ledger`;

const stored = { type: 'keyword', index: false, doc_values: false } as const;
const int = { type: 'integer', index: false, doc_values: false } as const;
const long = { type: 'long', index: false, doc_values: false } as const;

/**
 * One document per (value, sink) (ledger-docs.ts), plus one `sink:<id>` document per sink naming
 * the cursor its documents wait for. Only the value key and the sink are indexed (a value's rows
 * for every sink are one term query); the rest is kept in `_source`, compressed.
 */
export const LEDGER_MAPPINGS = {
  dynamic: 'strict',
  _meta: { stixgate_mapping_version: MAPPING_VERSION },
  properties: {
    k: { type: 'keyword' },
    s: { type: 'keyword' },
    st: int,
    r: int,
    t: long,
    q: long,
    sc: int,
    th: int,
    src: stored,
    d: stored,
    c: long,
    p: { type: 'object', enabled: false },
    /** on `sink:<id>` documents: the name of the sink's cursor */
    cn: stored,
  },
} as const;

const MGET_CHUNK = 1000;
const MAX_ROUNDS = 50;

interface Got {
  doc: LedgerDoc;
  seqNo: number;
  primaryTerm: number;
}

/** Creates or upgrades the ledger's template and index (idempotent, as ensureIndices). */
export async function ensureLedgerIndex(
  client: Client,
  index: string,
  s: { shards: number; replicas: number },
): Promise<ShardMismatch | undefined> {
  const mismatch = await ensureIndex(client, index, {
    mappings: LEDGER_MAPPINGS,
    shards: s.shards,
    replicas: s.replicas,
    settings: { refresh_interval: '1s', codec: 'best_compression' },
  });
  await client.cluster.health({ index, wait_for_status: 'yellow', timeout: '30s' });
  return mismatch;
}

/**
 * The delivery ledger on OpenSearch. `commit` reads the sink's committed cursor, writes the
 * documents of the updates (optimistic concurrency, 429/5xx items retried) waiting for the new
 * cursor, and only then the cursor; `read` resolves each document against its sink's committed
 * cursor, so readers never see a state whose cursor was not committed.
 */
export class OpenSearchLedger {
  /** This instance wrote ledger documents since its last refresh of the index. */
  private dirty = false;
  /** Sinks whose `sink:<id>` document this instance has written. */
  private readonly named = new Set<string>();
  /** Sink → the name of its cursor (from `sink:<id>` documents). */
  private readonly cursorNames = new Map<string, string>();

  constructor(
    private readonly index: string,
    private readonly write: () => WriteContext,
    private readonly meta: () => MetaContext,
  ) {}

  async commit(
    sink: string,
    updates: readonly LedgerUpdate[],
    cursor: { name: string; value: string } | undefined,
    now: number,
    setCursor: (name: string, value: string) => Promise<void>,
  ): Promise<void> {
    if (cursor && !this.named.has(sink)) {
      // before any document waits for the cursor, so a reader can always find its name
      await this.putSinkDoc(sink, cursor.name);
      this.named.add(sink);
      this.cursorNames.set(sink, cursor.name);
    }
    if (updates.length > 0) {
      const committed = (await this.committedCursors([sink])).get(sink) ?? 0;
      const c = cursor ? Number(cursor.value) : 0;
      await this.writeDocs(sink, updates, committed, Number.isFinite(c) ? c : 0, Math.floor(now / 1000));
    }
    if (cursor) await setCursor(cursor.name, cursor.value);
  }

  /** The committed state of these record keys in every sink. */
  async read(keys: readonly string[]): Promise<LedgerRow[]> {
    if (keys.length === 0) return [];
    const ctx = this.write();
    if (this.dirty) {
      this.dirty = false;
      await withRetry(ctx.node, 'refresh', ctx.policy, () => ctx.client.indices.refresh({ index: this.index }));
    }
    const keyOf = new Map(keys.map((k) => [ledgerKeyOf(k), k]));
    const r = await withRetry(ctx.node, 'search', ctx.policy, () =>
      ctx.client.search({
        index: this.index,
        body: { size: 10_000, query: { terms: { k: [...keyOf.keys()] } } },
      }),
    );
    const hits = field(field(r.body, 'hits'), 'hits');
    const docs: LedgerDoc[] = [];
    for (const h of Array.isArray(hits) ? hits : []) {
      const d = ledgerDocOf(field(h, '_source'));
      if (d) docs.push(d);
    }
    const cursors = await this.committedCursors([...new Set(docs.filter((d) => d.c > 0).map((d) => d.s))]);
    const out: LedgerRow[] = [];
    for (const d of docs) {
      const state = committedState(d, cursors.get(d.s) ?? 0);
      const key = keyOf.get(d.k);
      if (state && key !== undefined) out.push(rowOf(key, d.s, state));
    }
    return out;
  }

  /**
   * Retention (retention.ts): deletes the documents of these value keys (ledgerKeyOf) whose state
   * is committed (their sink's cursor has reached `c`) and does not say the sink holds the value,
   * each only if it is still the version read. Returns how many were deleted.
   */
  async purgeSettled(valueKeys: readonly string[]): Promise<number> {
    if (valueKeys.length === 0) return 0;
    const ctx = this.write();
    await withRetry(ctx.node, 'refresh', ctx.policy, () => ctx.client.indices.refresh({ index: this.index }));
    const r = await withRetry(ctx.node, 'search', ctx.policy, () =>
      ctx.client.search({
        index: this.index,
        seq_no_primary_term: true,
        body: { size: 10_000, query: { terms: { k: [...valueKeys] } } },
      }),
    );
    const hits = field(field(r.body, 'hits'), 'hits');
    const found: { _id: string; _seq_no: number; _primary_term: number; doc: LedgerDoc }[] = [];
    for (const h of Array.isArray(hits) ? hits : []) {
      const doc = ledgerDocOf(field(h, '_source'));
      const id = field(h, '_id');
      const seqNo = Number(field(h, '_seq_no'));
      const term = Number(field(h, '_primary_term'));
      if (doc && typeof id === 'string') found.push({ _id: id, _seq_no: seqNo, _primary_term: term, doc });
    }
    const cursors = await this.committedCursors([...new Set(found.map((f) => f.doc.s))]);
    const settled = found.filter((f) => f.doc.c <= (cursors.get(f.doc.s) ?? 0) && f.doc.st !== PRESENT);
    return (await deleteVersions(ctx, this.index, settled)).length;
  }

  /** The number of (value, sink) documents (for the bench). */
  async count(): Promise<number> {
    const ctx = this.write();
    await withRetry(ctx.node, 'refresh', ctx.policy, () => ctx.client.indices.refresh({ index: this.index }));
    const r = await withRetry(ctx.node, 'count', ctx.policy, () =>
      ctx.client.count({ index: this.index, body: { query: { exists: { field: 'k' } } } }),
    );
    return Number(field(r.body, 'count') ?? 0);
  }

  private async putSinkDoc(sink: string, cursorName: string): Promise<void> {
    const ctx = this.write();
    await withRetry(ctx.node, 'index', ctx.policy, () =>
      ctx.client.index({ index: this.index, id: `sink:${sink}`, body: { s: sink, cn: cursorName } }),
    );
  }

  /** The name of the cursor a sink's documents wait for (its `sink:<id>` document, remembered once found). */
  private async cursorNameOf(sink: string): Promise<string | undefined> {
    const known = this.cursorNames.get(sink);
    if (known !== undefined) return known;
    const ctx = this.write();
    const name = await withRetry(ctx.node, 'get', ctx.policy, async () => {
      try {
        const r = await ctx.client.get({ index: this.index, id: `sink:${sink}` });
        const cn = field(field(r.body, '_source'), 'cn');
        return typeof cn === 'string' ? cn : undefined;
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw e;
      }
    });
    if (name !== undefined) this.cursorNames.set(sink, name);
    return name;
  }

  /** The sinks' committed cursors in one read of the meta index (0 for a sink without one). */
  private async committedCursors(sinks: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const ids = new Map<string, string>();
    for (const sink of sinks) {
      out.set(sink, 0);
      const name = await this.cursorNameOf(sink);
      if (name !== undefined) ids.set(metaId('cursor', name), sink);
    }
    if (ids.size === 0) return out;
    const m = this.meta();
    const r = await withRetry(m.node, 'mget', m.policy, () =>
      m.client.mget({ index: m.index, body: { ids: [...ids.keys()] } }),
    );
    const docs = field(r.body, 'docs');
    for (const d of Array.isArray(docs) ? docs : []) {
      const sink = ids.get(String(field(d, '_id')));
      const v = Number(field(field(d, '_source'), 'value') ?? 0);
      if (sink !== undefined && Number.isFinite(v)) out.set(sink, v);
    }
    return out;
  }

  private async readDocs(ids: string[]): Promise<Map<string, Got>> {
    const ctx = this.write();
    const out = new Map<string, Got>();
    for (let i = 0; i < ids.length; i += MGET_CHUNK) {
      const chunk = ids.slice(i, i + MGET_CHUNK);
      const r = await withRetry(ctx.node, 'mget', ctx.policy, () =>
        ctx.client.mget({ index: this.index, body: { ids: chunk } }),
      );
      const docs = field(r.body, 'docs');
      for (const d of Array.isArray(docs) ? docs : []) {
        const id = field(d, '_id');
        const doc = ledgerDocOf(field(d, '_source'));
        const seqNo = field(d, '_seq_no');
        const primaryTerm = field(d, '_primary_term');
        if (typeof id === 'string' && doc && typeof seqNo === 'number' && typeof primaryTerm === 'number')
          out.set(id, { doc, seqNo, primaryTerm });
      }
    }
    return out;
  }

  private async writeDocs(
    sink: string,
    updates: readonly LedgerUpdate[],
    committed: number,
    c: number,
    sinceSecs: number,
  ): Promise<void> {
    const byId = new Map<string, { key: string; updates: LedgerUpdate[] }>();
    for (const u of updates) {
      const id = ledgerDocId(u.key, sink);
      const g = byId.get(id);
      if (g) g.updates.push(u);
      else byId.set(id, { key: u.key, updates: [u] });
    }
    const ctx = { ...this.write(), index: this.index };
    const report: WriteReport = { written: new Map(), rejected: new Map(), requests: 0, conflicts: 0, retried: 0 };
    let todo = [...byId.keys()];
    let transient = 0;
    for (let round = 0; todo.length > 0; round++) {
      if (round >= MAX_ROUNDS)
        throw new StixgateError('STIXGATE_ERR_STORE_UNAVAILABLE', `OpenSearch: ledger of ${sink} still conflicting`, {
          retryable: true,
          reason: 'contended',
        });
      const existing = await this.readDocs(todo);
      const ops: { id: string; line: string }[] = [];
      for (const id of todo) {
        const g = byId.get(id);
        if (!g) continue;
        const cur = existing.get(id);
        const doc = nextDoc(cur?.doc, committed, g.updates, g.key, sink, c, sinceSecs);
        if (!doc) continue;
        const action = cur
          ? { index: { _index: this.index, _id: id, if_seq_no: cur.seqNo, if_primary_term: cur.primaryTerm } }
          : { create: { _index: this.index, _id: id } };
        ops.push({ id, line: `${JSON.stringify(action)}\n${JSON.stringify(doc)}\n` });
      }
      if (ops.length === 0) return;
      this.dirty = true;
      const results = await sendBulk(ctx, ops, report);
      const next: string[] = [];
      let throttled = false;
      results.forEach((res, i) => {
        const id = at(ops, i).id;
        if (res.status >= 200 && res.status < 300) return;
        if (res.status === 409) next.push(id);
        else if (res.status === 429 || res.status >= 500) {
          next.push(id);
          throttled = true;
        } else
          throw new StixgateError(
            'STIXGATE_ERR_STORE_UNAVAILABLE',
            `OpenSearch refused the ledger document ${id}: ${res.errorType ?? `HTTP ${res.status}`}${res.errorReason ? ` (${res.errorReason})` : ''}`,
            { reason: 'store_rejected' },
          );
      });
      if (throttled) {
        transient++;
        if (transient >= ctx.policy.maxAttempts)
          throw new StixgateError('STIXGATE_ERR_STORE_UNAVAILABLE', 'OpenSearch kept refusing ledger documents', {
            retryable: true,
            reason: 'throttled',
          });
        await sleep(backoffDelay(transient, ctx.policy.baseDelayMs, ctx.policy.maxDelayMs));
      }
      todo = next;
    }
  }
}
