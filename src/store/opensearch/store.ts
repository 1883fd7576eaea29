import { unpackHistory, type ScoreHistoryEntry } from '../score-history.js';
import type { Client } from '@opensearch-project/opensearch';
import { StixgateError, type Rejection } from '../../core/errors.js';
import { OBSERVABLE_TYPES, type ObservableType, type StixObject } from '../../core/stix.js';
import type {
  Change,
  ChangePage,
  IndexEntry,
  IndexPage,
  IngestItem,
  ModifyFn,
  ModifyOptions,
  ModifyResult,
  Query,
  QueryPage,
  Store,
  StoreStats,
  UpsertOptions,
  UpsertResult,
} from '../contract.js';
import { INTERNAL_CURSOR_PREFIX } from '../contract.js';
import {
  DEFAULT_SEEN_GRANULARITY_MS,
  mergeObject,
  modifyIds,
  resultJson,
  storedJson,
  type MergeContext,
  type MergeOutcome,
} from '../merge.js';
import type { Scoring } from '../../score/model.js';
import { readExisting, writeObjects, type WriteContext, type WriteReport } from './bulk.js';
import { createClient, errorType, safeUrl, storeError, withRetry, type RetryPolicy } from './client.js';
import { OP_OF_STATE, invalidItem, parseObject, stateOf, type Existing, type ObjectState } from './documents.js';
import * as meta from './leases.js';
import { ensureIndices, indexNames, type IndexNames, type ShardMismatch } from './mappings.js';
import { buildSearch, encodeAfter } from './query.js';
import { lookupCandidates, type LookupCandidate } from './lookup-query.js';
import type { OpenSearchStoreConfig } from './schema.js';
import { Sequence } from './sequence.js';
import { checkIdentity, indexUuids, openIdentity, type StoreIdentity } from './identity.js';
import { HorizonLag, refreshLagMs } from './visibility.js';
import { last } from '../../core/indexed.js';
import type { LedgerReading, LedgerUpdate } from '../ledger.js';
import { OpenSearchLedger, ensureLedgerIndex, ledgerIndexName } from './ledger.js';
import { LinksIndex, linksIndexName } from './links.js';
import { purgeObjects } from './retention.js';
import type { PurgeOptions, PurgeResult } from '../retention.js';

export type OpenSearchStoreOptions = Omit<OpenSearchStoreConfig, 'type' | 'retention'> & {
  /** Wall clock for change-log allocations (tests inject one). */
  clock?: () => number;
  /** Score weights and decay models (compileScoring of `scoring:`); default: no decay. */
  scoring?: Scoring;
  /**
   * Refresh the objects index before reading the change log, so a change is readable as soon as
   * it is acknowledged (the store contract suite). Off by default: readers then wait for the
   * index's own refresh instead of forcing one (ADR 0023, "Visibility without forced refreshes").
   */
  refreshBeforeChanges?: boolean;
};

/** Most ids one modify() call takes. */

const INDEXED_TYPES = new Set<string>(['indicator', ...OBSERVABLE_TYPES]);
const MAX_PAGE = 10_000;

interface Hit<T> {
  _id: string;
  _source: T;
  sort?: number[];
  /** With `seq_no_primary_term: true`. */
  _seq_no?: number;
  _primary_term?: number;
}

/** The scale-out Store: OpenSearch through @opensearch-project/opensearch (docs/adr/0003-opensearch-store.md). */
export class OpenSearchStore implements Store {
  readonly kind = 'opensearch';
  readonly names: IndexNames;
  private client?: Client;
  private sequence?: Sequence;
  /** The delivery ledger (ledger.ts), in `<prefix>-ledger`. */
  private ledger?: OpenSearchLedger;
  private readonly policy: RetryPolicy;
  private readonly gran: number;
  private readonly clock: () => number;
  /** This instance wrote objects since its last refresh (read-your-writes for searches). */
  private dirty = false;
  /** Running totals since open (for metrics): bulk requests, 409 re-merges, 429/5xx item retries. */
  readonly counters = { bulkRequests: 0, conflicts: 0, retriedItems: 0, rejectedItems: 0 };
  /** The change-log horizon as of this instance's last refresh. */
  private refreshedHorizon = 0;
  /** What open() found (ADR 0023, store identity); `adoptedIdentity` when the indices had changed since it was recorded. */
  identity?: StoreIdentity;
  adoptedIdentity?: StoreIdentity;
  /** Set once the store was found replaced: every later call fails with it. */
  private replaced?: StixgateError;
  private identityCheckedAt = Number.NEGATIVE_INFINITY;
  private lag?: HorizonLag;
  /** The first change-log read refreshed the objects index (see horizon()). */
  private lagPrimed = false;
  private headCache = { horizon: -1, head: 0 };
  /** Existing indices whose primary shard count is not `number_of_shards` (found by open()). */
  shardMismatch: ShardMismatch[] = [];

  /** What open() found that does not stop the store (the daemon logs it). */
  get warnings(): string[] {
    return this.shardMismatch.map(
      (m) =>
        `index ${m.index} has ${m.actual} primary shards where this configuration creates it with ${m.configured} (store.number_of_shards; the meta index always 1): an existing index's shard count changes only by a split, shrink or reindex (docs/opensearch.md, "Shards and replicas")`,
    );
  }

  constructor(private readonly opts: OpenSearchStoreOptions) {
    this.names = indexNames(opts.index_prefix);
    this.policy = {
      maxAttempts: opts.retry.max_attempts,
      baseDelayMs: opts.retry.base_delay_ms,
      maxDelayMs: opts.retry.max_delay_ms,
    };
    this.gran = Number.isFinite(opts.seen_granularity_secs)
      ? opts.seen_granularity_secs * 1000
      : DEFAULT_SEEN_GRANULARITY_MS;
    this.clock = opts.clock ?? Date.now;
  }

  private get node(): string {
    return this.opts.node;
  }

  async open(): Promise<void> {
    if (this.client) return;
    const client = createClient(this.opts);
    try {
      const mismatches = await withRetry(this.node, 'index set-up', this.policy, () =>
        ensureIndices(client, this.names, {
          shards: this.opts.number_of_shards,
          replicas: this.opts.number_of_replicas,
          refreshInterval: this.opts.refresh_interval,
        }),
      );
      const ledger = await withRetry(this.node, 'index set-up', this.policy, () =>
        ensureLedgerIndex(client, ledgerIndexName(this.opts.index_prefix), {
          shards: this.opts.number_of_shards,
          replicas: this.opts.number_of_replicas,
        }),
      );
      this.shardMismatch = ledger ? [...mismatches, ledger] : mismatches;
    } catch (e) {
      await client.close().catch(() => {});
      throw storeError(this.node, 'index set-up', e);
    }
    try {
      const found = await withRetry(this.node, 'store identity', this.policy, () =>
        openIdentity(client, this.names, this.clock()),
      );
      this.identity = found.identity;
      this.adoptedIdentity = found.adopted;
    } catch (e) {
      await client.close().catch(() => {});
      throw storeError(this.node, 'store identity', e);
    }
    this.client = client;
    this.replaced = undefined;
    this.sequence = new Sequence(client, {
      index: this.names.meta,
      ttlMs: this.opts.sequence_ttl_secs * 1000,
      epochMs: this.identity.epochMs,
      clock: this.clock,
    });
    this.ledger = new OpenSearchLedger(
      ledgerIndexName(this.opts.index_prefix),
      () => this.writeCtx(),
      () => this.metaCtx(),
    );
    const lagMs = refreshLagMs(this.opts.refresh_interval);
    this.lag = this.opts.refreshBeforeChanges || lagMs === undefined ? undefined : new HorizonLag(lagMs);
  }

  async close(): Promise<void> {
    const c = this.client;
    const seq = this.sequence;
    this.client = undefined;
    this.sequence = undefined;
    this.ledger = undefined;
    await seq?.stop().catch(() => {});
    await c?.close();
  }

  /**
   * Fails closed once the indices or the identity document are not the ones opened (checked at
   * most every 2 s, and at every ping).
   */
  private async guard(force = false): Promise<void> {
    if (this.replaced) throw this.replaced;
    const now = this.clock();
    if (!force && now - this.identityCheckedAt < 2000) return;
    const identity = this.identity;
    if (!identity) throw new StixgateError('STIXGATE_ERR_STORE_UNAVAILABLE', 'store is not open', { reason: 'closed' });
    try {
      await checkIdentity(this.c(), this.names, identity);
      this.identityCheckedAt = now;
    } catch (e) {
      if (e instanceof StixgateError && e.code === 'STIXGATE_ERR_STORE_REPLACED') {
        this.replaced = e;
        this.sequence?.stop().catch(() => {});
      }
      throw storeError(this.node, 'store identity check', e);
    }
  }

  private c(): Client {
    if (!this.client)
      throw new StixgateError('STIXGATE_ERR_STORE_UNAVAILABLE', 'store is not open', { reason: 'closed' });
    return this.client;
  }

  private seq(): Sequence {
    this.c();
    return this.sequence!;
  }

  private led(): OpenSearchLedger {
    this.c();
    if (!this.ledger)
      throw new StixgateError('STIXGATE_ERR_STORE_UNAVAILABLE', 'store is not open', { reason: 'closed' });
    return this.ledger;
  }

  private writeCtx(): WriteContext {
    return {
      client: this.c(),
      node: this.node,
      index: this.names.objects,
      policy: this.policy,
      maxDocs: this.opts.max_batch_docs,
      maxBytes: this.opts.max_batch_bytes,
      sequence: this.seq(),
      renewMarginMs: (this.opts.sequence_ttl_secs * 1000) / 2,
      clock: this.clock,
    };
  }

  /** The shared correlation index, `<prefix>-links` (links.ts; created on first use). */
  links(): LinksIndex {
    return new LinksIndex(() => ({
      write: this.writeCtx(),
      meta: this.metaCtx(),
      index: linksIndexName(this.opts.index_prefix),
      settings: {
        shards: this.opts.number_of_shards,
        replicas: this.opts.number_of_replicas,
        refreshInterval: this.opts.refresh_interval,
      },
    }));
  }

  private metaCtx(): meta.MetaContext {
    return { client: this.c(), node: this.node, index: this.names.meta, policy: this.policy };
  }

  /** Throws STIXGATE_ERR_STORE_UNAVAILABLE when the cluster is unreachable or red. */
  async ping(): Promise<void> {
    const client = this.c();
    let status: string;
    try {
      const r = await client.cluster.health({ index: `${this.names.objects},${this.names.meta}`, timeout: '5s' });
      status = (r.body as { status: string }).status;
    } catch (e) {
      await this.guardIfMissing();
      throw storeError(this.node, 'health check', e);
    }
    if (status === 'red') {
      await this.guardIfMissing();
      throw new StixgateError(
        'STIXGATE_ERR_STORE_UNAVAILABLE',
        `OpenSearch ${safeUrl(this.node)}: stixgate indices are red`,
        { retryable: true, reason: 'red' },
      );
    }
    await this.guard(true);
  }

  private async refresh(indices: string): Promise<void> {
    await withRetry(this.node, 'refresh', this.policy, () => this.c().indices.refresh({ index: indices }));
  }

  private async search<T>(index: string, body: Record<string, unknown>): Promise<Hit<T>[]> {
    const r = await withRetry(this.node, 'search', this.policy, () => this.c().search({ index, body: body })).catch(
      async (e: unknown) => {
        throw await this.replacedOr(e);
      },
    );
    return (r.body as { hits: { hits: Hit<T>[] } }).hits.hits;
  }

  /** A missing index also reports red (or a health timeout): then the identity check names it. */
  private async guardIfMissing(): Promise<void> {
    const uuids = await indexUuids(this.c(), this.names).catch(() => undefined);
    if (uuids && uuids.size < 2) await this.guard(true);
  }

  /** A missing index means the store was deleted under us: the identity check names it. */
  private async replacedOr(e: unknown): Promise<unknown> {
    const cause = e instanceof Error && e.cause !== undefined ? e.cause : e;
    const missing =
      errorType(cause) === 'index_not_found_exception' || (e instanceof StixgateError && e.reason === 'index_missing');
    if (!missing) return e;
    try {
      await this.guard(true);
    } catch (g) {
      return g;
    }
    return e;
  }

  /** Makes this instance's own writes visible to searches. */
  private async ownWritesVisible(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    await this.refresh(this.names.objects);
  }

  async upsert(items: IngestItem[], opts: UpsertOptions): Promise<UpsertResult> {
    const result: UpsertResult = { created: 0, updated: 0, unchanged: 0, stale: 0, rejected: [] };
    const groups = new Map<string, { item: IngestItem; index: number }[]>();
    for (const [i, item] of items.entries()) {
      const bad = invalidItem(item, i);
      if (bad) {
        result.rejected.push(bad);
        continue;
      }
      const id = item.object.id;
      let g = groups.get(id);
      if (!g) {
        g = [];
        groups.set(id, g);
      }
      g.push({ item, index: i });
    }
    await this.guard();
    const ctx = this.writeCtx();
    const ids = [...groups.keys()];
    const existing =
      ids.length > 0
        ? await readExisting(ctx, ids).catch(async (e: unknown) => {
            throw await this.replacedOr(e);
          })
        : new Map<string, Existing>();
    const outcomes = new Map<string, MergeOutcome[]>();
    const mctx: MergeContext = {
      now: opts.now,
      seenGranularityMs: this.gran,
      ...(this.opts.scoring ? { scoring: this.opts.scoring } : {}),
    };
    const report = await writeObjects(ctx, ids, existing, (id, cur) => {
      let obj = cur?.obj;
      let json = cur?.json;
      let dirty = false;
      const outs: MergeOutcome[] = [];
      for (const { item } of groups.get(id)!) {
        const r = mergeObject(obj, item, { ...mctx, existingJson: json });
        outs.push(r.outcome);
        if (r.outcome === 'created' || r.outcome === 'updated') {
          obj = r.object;
          json = resultJson(r);
          dirty = true;
        }
      }
      outcomes.set(id, outs);
      return dirty && obj && json !== undefined ? { obj, json, at: opts.now } : undefined;
    });
    this.count(report);
    for (const id of ids) {
      const outs = outcomes.get(id) ?? [];
      const refused = report.rejected.get(id);
      groups.get(id)!.forEach(({ item, index }, k) => {
        const o = outs[k];
        if (refused && (o === 'created' || o === 'updated')) {
          const r: Rejection = {
            reason: refused.reason,
            message: refused.message,
            location: { index, source: item.source, objectId: id },
          };
          result.rejected.push(r);
        } else if (o !== undefined) result[o]++;
      });
    }
    result.rejected.sort((a, b) => (a.location?.index ?? 0) - (b.location?.index ?? 0));
    if (opts.cursors) {
      const m = this.metaCtx();
      for (const name of Object.keys(opts.cursors))
        await meta.setCursor(m, name, String(opts.cursors[name]), this.clock());
    }
    return result;
  }

  private count(report: WriteReport): void {
    if (report.written.size > 0) this.dirty = true;
    this.counters.bulkRequests += report.requests;
    this.counters.conflicts += report.conflicts;
    this.counters.retriedItems += report.retried;
    this.counters.rejectedItems += report.rejected.size;
  }

  async get(id: string): Promise<StixObject | undefined> {
    return (await this.getMany([id])).get(id);
  }

  /** The object's score history (the `score_history` field of its document), oldest first. */
  async scoreHistory(id: string): Promise<ScoreHistoryEntry[]> {
    if (typeof id !== 'string' || id === '' || Buffer.byteLength(id) > 512) return [];
    return unpackHistory((await readExisting(this.writeCtx(), [id])).get(id)?.history);
  }

  async getEntry(id: string): Promise<{ object: StixObject; seq: number } | undefined> {
    if (typeof id !== 'string' || id === '' || Buffer.byteLength(id) > 512) return undefined;
    const e = (await readExisting(this.writeCtx(), [id])).get(id);
    return e && { object: e.obj, seq: e.seq };
  }

  async getMany(ids: string[]): Promise<Map<string, StixObject>> {
    const uniq = [...new Set(ids)].filter((id) => typeof id === 'string' && id !== '' && Buffer.byteLength(id) <= 512);
    const found = uniq.length > 0 ? await readExisting(this.writeCtx(), uniq) : new Map<string, Existing>();
    const out = new Map<string, StixObject>();
    for (const id of ids) {
      const e = found.get(id);
      if (e && !out.has(id)) out.set(id, e.obj);
    }
    return out;
  }

  async query(q: Query): Promise<QueryPage> {
    const built = buildSearch(q);
    await this.ownWritesVisible();
    const hits = await this.search<{ json: string; first_seq: number }>(this.names.objects, built.body);
    const page = hits.slice(0, built.limit);
    const out: QueryPage = {
      objects: page.map((h) => parseObject(h._source.json)),
      positions: page.map((h) => encodeAfter(h._source.first_seq)),
    };
    if (hits.length > built.limit) out.next = encodeAfter(last(page)._source.first_seq);
    return out;
  }

  async modify(ids: string[], fn: ModifyFn, _opts: ModifyOptions): Promise<ModifyResult> {
    const uniq = modifyIds(ids);
    const result: ModifyResult = { updated: 0, unchanged: 0, missing: 0, rejected: [] };
    const valid = uniq.filter((id) => typeof id === 'string' && id !== '' && Buffer.byteLength(id) <= 512);
    result.missing += uniq.length - valid.length;
    if (valid.length === 0) return result;
    await this.guard();
    const ctx = this.writeCtx();
    const existing = await readExisting(ctx, valid);
    const refusedHere = new Map<string, string>();
    const report = await writeObjects(ctx, valid, existing, (id, cur) => {
      if (!cur) return undefined;
      const next = fn(parseObject(cur.json));
      if (next === undefined) return undefined;
      if (next.id !== id || next.type !== cur.obj.type) {
        refusedHere.set(id, `modify of ${id} may not change its id or type`);
        return undefined;
      }
      let json: string;
      try {
        json = storedJson(next);
      } catch (e) {
        if (!(e instanceof TypeError)) throw e;
        refusedHere.set(id, `object ${id} is not serialisable: ${e.message}`);
        return undefined;
      }
      return json === cur.json ? undefined : { obj: next, json, at: _opts.now };
    });
    this.count(report);
    for (const id of valid) {
      if (!existing.has(id) && !report.written.has(id)) result.missing++;
      else if (report.written.has(id)) result.updated++;
      else if (refusedHere.has(id))
        result.rejected.push({ reason: 'stix_invalid', message: refusedHere.get(id)!, location: { objectId: id } });
      else if (report.rejected.has(id)) {
        const r = report.rejected.get(id)!;
        result.rejected.push({
          reason: r.reason as Rejection['reason'],
          message: r.message,
          location: { objectId: id },
        });
      } else result.unchanged++;
    }
    return result;
  }

  async expire(now: number): Promise<number> {
    let total = 0;
    const ctx = this.writeCtx();
    for (;;) {
      this.dirty = false;
      await this.refresh(this.names.objects);
      const hits = await this.search<Record<string, never>>(this.names.objects, {
        size: 1000,
        query: { bool: { filter: [{ term: { state: 'active' } }, { range: { valid_until: { lte: now } } }] } },
        sort: [{ seq: 'asc' }],
        _source: false,
      });
      if (hits.length === 0) return total;
      const ids = hits.map((h) => h._id);
      const existing = await readExisting(ctx, ids);
      const report = await writeObjects(ctx, ids, existing, (_id, cur) => {
        if (!cur || stateOf(cur.obj) !== 'active') return undefined;
        const vu = typeof cur.obj.valid_until === 'string' ? Date.parse(cur.obj.valid_until) : NaN;
        if (Number.isNaN(vu) || vu > now) return undefined;
        const obj: StixObject = {
          ...cur.obj,
          x_stixgate: { ...(cur.obj.x_stixgate ?? { sources: {} }), expired: true },
        };
        return { obj, json: storedJson(obj) };
      });
      this.count(report);
      total += report.written.size;
      if (report.written.size === 0) return total; // nothing more could be expired (refused or raced)
    }
  }

  /** Retention (retention.ts): deletes due ended objects and their settled ledger documents. */
  async purge(o: PurgeOptions): Promise<PurgeResult> {
    await this.guard();
    this.dirty = false;
    await this.refresh(this.names.objects);
    return purgeObjects(
      {
        write: this.writeCtx(),
        objects: this.names.objects,
        meta: this.metaCtx(),
        now: this.clock(),
        search: (index, body) => this.search(index, body),
        purgeLedger: (keys) => this.led().purgeSettled(keys),
        refresh: (index) => this.refresh(index),
      },
      o,
    ).catch(async (e: unknown) => {
      throw await this.replacedOr(e);
    });
  }

  /** Makes every change up to `horizon` visible to searches (once per new horizon). */
  private async changesVisible(horizon: number): Promise<void> {
    if (this.lag) return;
    if (horizon > this.refreshedHorizon || this.dirty) {
      this.dirty = false;
      await this.refresh(this.names.objects);
      this.refreshedHorizon = Math.max(this.refreshedHorizon, horizon);
    }
  }

  private async horizon(): Promise<number> {
    await this.guard();
    let h: number;
    try {
      h = (await this.seq().position()).horizon;
    } catch (e) {
      throw await this.replacedOr(storeError(this.node, 'change-log position', e));
    }
    if (!this.lag) return h;
    if (!this.lagPrimed) {
      // the first read of this instance refreshes once: everything at or below the horizon is
      // then searchable, so a follower that just started (or a one-shot push) does not see an
      // empty change log for the first lag period
      await this.refresh(this.names.objects);
      this.lagPrimed = true;
      this.lag.prime(h);
    }
    // without forced refreshes, read only what the index's own refresh has made searchable
    return this.lag.readable(h, this.clock());
  }

  async changes(after: number, limit: number): Promise<ChangePage> {
    const horizon = await this.horizon();
    if (horizon <= after || limit < 1) return { changes: [], next: after };
    await this.changesVisible(horizon);
    const hits = await this.search<{ json: string; seq: number; state: ObjectState; type: string }>(
      this.names.objects,
      {
        size: Math.min(limit, MAX_PAGE),
        query: { range: { seq: { gt: after, lte: horizon } } },
        sort: [{ seq: 'asc' }],
        _source: ['json', 'seq', 'state', 'type'],
      },
    );
    const changes: Change[] = hits.map((h) => ({
      seq: h._source.seq,
      id: h._id,
      type: h._source.type,
      op: OP_OF_STATE[h._source.state],
      object: parseObject(h._source.json),
    }));
    return { changes, next: changes.at(-1)?.seq ?? after };
  }

  async indexEntries(after: number, limit: number): Promise<IndexPage> {
    const horizon = await this.horizon();
    if (horizon <= after || limit < 1) return { entries: [], next: after };
    await this.changesVisible(horizon);
    const hits = await this.search<{
      id: string;
      type: string;
      seq: number;
      state: ObjectState;
      obs?: { type: ObservableType; value: string }[];
    }>(this.names.objects, {
      size: Math.min(limit, MAX_PAGE),
      query: { range: { seq: { gt: after, lte: horizon } } },
      sort: [{ seq: 'asc' }],
      _source: ['id', 'type', 'seq', 'state', 'obs'],
    });
    const entries: IndexEntry[] = [];
    for (const h of hits) {
      const s = h._source;
      if (s.state !== 'active' || !s.obs || s.obs.length === 0 || !INDEXED_TYPES.has(s.type)) continue;
      entries.push({ id: s.id, type: s.type as IndexEntry['type'], observables: s.obs, seq: s.seq });
    }
    return { entries, next: hits.at(-1)?._source.seq ?? after };
  }

  /** The active indicators listing any of `values`, for the remote lookups (lookup-query.ts). */
  candidates(values: readonly string[], limit: number): Promise<LookupCandidate[]> {
    return lookupCandidates((body) => this.search(this.names.objects, body), values, limit);
  }

  /** The position of the last change at or below the horizon (0 when there is none). */
  async head(): Promise<number> {
    const horizon = await this.horizon();
    if (horizon === this.headCache.horizon) return this.headCache.head;
    await this.changesVisible(horizon);
    const hits = await this.search<{ seq: number }>(this.names.objects, {
      size: 1,
      query: { range: { seq: { lte: horizon } } },
      sort: [{ seq: 'desc' }],
      _source: ['seq'],
    });
    const head = hits[0]?._source.seq ?? 0;
    if (!this.dirty) this.headCache = { horizon, head };
    return head;
  }

  async getCursor(name: string): Promise<string | undefined> {
    return meta.getCursor(this.metaCtx(), name);
  }

  async setCursor(name: string, value: string): Promise<void> {
    await meta.setCursor(this.metaCtx(), name, value, this.clock());
  }

  /** The delivery ledger (ledger.ts): a sink's ledger documents, then its cursor. */
  async commitDeliveries(
    sink: string,
    updates: LedgerUpdate[],
    cursor: { name: string; value: string } | undefined,
    now: number,
  ): Promise<void> {
    await this.led().commit(sink, updates, cursor, now, (name, value) => this.setCursor(name, value));
  }

  /** The committed ledger rows of these record keys, and the last change of an object listing `value`. */
  async deliveries(keys: string[], value: string): Promise<LedgerReading> {
    const ledger = this.led();
    await this.ownWritesVisible();
    const hits = await this.search<{ seq: number }>(this.names.objects, {
      size: 1,
      query: { term: { values: value } },
      sort: [{ seq: 'desc' }],
      _source: ['seq'],
    });
    return { rows: await ledger.read(keys), valueSeq: hits[0]?._source.seq ?? 0 };
  }

  async acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    return meta.acquireLease(this.metaCtx(), name, holder, ttlMs, now);
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await meta.releaseLease(this.metaCtx(), name, holder);
  }

  async stats(): Promise<StoreStats> {
    await this.refresh(`${this.names.objects},${this.names.meta}`);
    this.dirty = false;
    const r = await withRetry(this.node, 'search', this.policy, () =>
      this.c().search({
        index: this.names.objects,
        body: {
          size: 0,
          track_total_hits: true,
          aggs: { types: { terms: { field: 'type', size: 1000 } }, states: { terms: { field: 'state', size: 10 } } },
          // cast: the client's typed search body rejects this aggregation request, which OpenSearch accepts
        } as never,
      }),
    );
    const body = r.body as unknown as {
      hits: { total: { value: number } };
      aggregations: {
        types: { buckets: { key: string; doc_count: number }[] };
        states: { buckets: { key: string; doc_count: number }[] };
      };
    };
    const byType: Record<string, number> = {};
    for (const b of body.aggregations.types.buckets.sort((a, b2) => (a.key < b2.key ? -1 : 1))) {
      Object.defineProperty(byType, b.key, {
        value: b.doc_count,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    const states = new Map(body.aggregations.states.buckets.map((b) => [b.key, b.doc_count]));
    const cursors: Record<string, string> = {};
    const hits = await this.search<{ name: string; value: string }>(this.names.meta, {
      size: MAX_PAGE,
      query: { term: { kind: 'cursor' } },
      sort: [{ name: 'asc' }],
      _source: ['name', 'value'],
    });
    for (const h of hits)
      if (!h._source.name.startsWith(INTERNAL_CURSOR_PREFIX))
        Object.defineProperty(cursors, h._source.name, {
          value: h._source.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
    let bytesOnDisk: number | undefined;
    try {
      const st = await this.c().indices.stats({
        index: `${this.names.objects},${this.names.meta}`,
        metric: 'store',
      });
      bytesOnDisk = (st.body as { _all: { total: { store: { size_in_bytes: number } } } })._all.total.store
        .size_in_bytes;
    } catch {
      bytesOnDisk = undefined; // size is informational
    }
    return {
      objects: body.hits.total.value,
      byType,
      revoked: states.get('revoked') ?? 0,
      expired: states.get('expired') ?? 0,
      changeLogHead: await this.head(),
      cursors,
      ...(bytesOnDisk !== undefined ? { bytesOnDisk } : {}),
    };
  }

  /** Deletes this store's indices and templates (tests and `--reset`; never called implicitly). */
  async destroy(): Promise<void> {
    const c = this.c();
    const p = this.opts.index_prefix;
    const indices = [this.names.objects, this.names.meta, ledgerIndexName(p), linksIndexName(p)];
    for (const name of indices) await c.indices.deleteIndexTemplate({ name }).catch(() => {});
    await c.indices.delete({ index: indices.join(','), ignore_unavailable: true });
  }
}
