import type Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { TlpLevel } from '../core/stix.js';
import type { Store } from '../store/contract.js';
import type { Logger } from '../telemetry/logger.js';
import { correlationIoError, openCorrelationDb, resetCorrelationDb } from './db.js';
import type { CorrelationMetrics } from './metrics.js';
import { SqliteWalkSource, Walker } from './query.js';
import type { AccessPolicy } from '../access/policy.js';
import {
  emptySummary,
  relatedOf,
  summaryOf,
  type RelatedOptions,
  type RelatedResult,
  type RelatedSummary,
} from './related.js';
import { DERIVATIONS, IndexWriter, STATE_ACTIVE, type Derivation } from './writer.js';
import { last } from '../core/indexed.js';

export const DEFAULT_MAX_FANOUT = 20;
/**
 * Most change-log entries applied in one transaction on the event loop (~45 µs each on a first
 * build): a page is applied in slices of this many, an event-loop turn apart.
 */
export const CORRELATION_SLICE = 200;

export interface CorrelatorOptions {
  /** The data directory (`correlation.db` is created in it), or `:memory:`. */
  dataDir: string;
  /** Most derived links per value, and most holders of one value that correlate (MISP's default: 20). */
  maxFanout?: number;
  metrics?: CorrelationMetrics;
  logger?: Logger;
  /** The access policy views are computed under (default_tlp, scoring). */
  access?: AccessPolicy;
  /** Called with the open database before anything is read or written (the shared writer's change capture). */
  onOpen?: (db: Database.Database) => void;
  /** Awaited after each committed slice (the shared writer publishes it); a rejection stops the catch-up. */
  afterSlice?: (seq: number) => Promise<void>;
}

export interface CatchUpResult {
  applied: number;
  seq: number;
  /** True when the index reached the head of the change log. */
  caughtUp: boolean;
}

export type { RelatedItem, RelatedOptions, RelatedResult, RelatedSummary } from './related.js';

export interface CorrelatorStats {
  seq: number;
  nodes: number;
  values: number;
  edges: number;
  valueLinks: number;
  cappedValues: number;
  capped: Record<Derivation, number>;
  bytesOnDisk: number;
}

/**
 * The correlation index: a change-log consumer with its own SQLite file, so it works with every
 * store backend. `catchUp` applies the changes after its cursor (kept in the same file, committed
 * with each page); `related` walks explicit and derived links and reads the objects from the store.
 */
export class Correlator {
  private readonly db: Database.Database;
  private readonly path: string;
  private writer!: IndexWriter;
  private walker!: Walker;
  readonly maxFanout: number;
  private running?: Promise<CatchUpResult>;
  private timer?: NodeJS.Timeout;
  private failures = 0;
  private readonly getMeta: Database.Statement;
  private readonly setMeta: Database.Statement;
  private readonly summaryStmt: Database.Statement;
  private readonly nodeById: Database.Statement;

  constructor(private readonly o: CorrelatorOptions) {
    this.maxFanout = o.maxFanout ?? DEFAULT_MAX_FANOUT;
    if (!Number.isInteger(this.maxFanout) || this.maxFanout < 1)
      throw new RangeError(`maxFanout must be a positive integer, got ${this.maxFanout}`);
    ({ db: this.db, path: this.path } = openCorrelationDb(o.dataDir));
    o.onOpen?.(this.db);
    this.getMeta = this.db.prepare('SELECT v FROM meta WHERE k = ?').pluck();
    this.setMeta = this.db.prepare('INSERT INTO meta(k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v');
    const stored = this.getMeta.get('max_fanout') as string | undefined;
    if (stored !== undefined && Number(stored) !== this.maxFanout) {
      // links were capped at another value: rebuild so that the cap holds everywhere
      o.logger?.info(
        { from: Number(stored), to: this.maxFanout },
        'correlation fan-out cap changed; rebuilding the correlation index',
      );
      resetCorrelationDb(this.db);
    }
    this.setMeta.run('max_fanout', String(this.maxFanout));
    this.init();
    this.nodeById = this.db.prepare('SELECT n FROM node WHERE id = ?').pluck();
    this.summaryStmt =
      this.db.prepare(`SELECT x.type AS type, x.name AS name, x.tlp AS tlp FROM edge e JOIN node x ON x.n = e.b
      WHERE e.a = ? AND x.state = ${STATE_ACTIVE} AND x.name IS NOT NULL
      UNION SELECT x.type, x.name, x.tlp FROM edge e JOIN node x ON x.n = e.a
      WHERE e.b = ? AND x.state = ${STATE_ACTIVE} AND x.name IS NOT NULL LIMIT 200`);
  }

  /** Writer and walker hold in-memory caches of the file (dictionary, prefix lengths): made anew after a reset. */
  private init(): void {
    this.writer = new IndexWriter(this.db, {
      maxFanout: this.maxFanout,
      onCapped: (d) => this.o.metrics?.cappedBy(d),
      access: this.o.access,
    });
    this.walker = new Walker(new SqliteWalkSource(this.db, this.writer.dict), this.maxFanout);
  }

  /** The change-log sequence applied so far. */
  get seq(): number {
    return Number(this.getMeta.get('seq') ?? 0);
  }

  /**
   * Applies change-log entries after the cursor, in pages, until the head (or `limit` entries),
   * at most CORRELATION_SLICE per transaction and event-loop turn.
   * Overlapping calls share the run in progress. A cursor past the store's head means the store
   * was replaced: the index is rebuilt from the start.
   */
  catchUp(store: Store, opts: { limit?: number; pageSize?: number } = {}): Promise<CatchUpResult> {
    this.running ??= this.run(store, opts).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * Catches up every `intervalMs` (in addition to the catch-ups the caller triggers after each
   * ingest). A failed catch-up (store briefly unavailable) is logged once and retried next tick.
   * While `busy()` (an ingest is running) a tick applies one slice only: correlation, which costs
   * more per object than the ingest itself, yields the event loop's core to the ingest and catches
   * up once it is idle.
   */
  start(store: Store, intervalMs: number, pageSize?: number, busy?: () => boolean): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.catchUp(store, busy?.() ? { pageSize, limit: CORRELATION_SLICE } : { pageSize }).then(
        () => {
          if (this.failures > 0) this.o.logger?.info({ seq: this.seq }, 'correlation index follower recovered');
          this.failures = 0;
        },
        (e: unknown) => {
          if (this.failures++ === 0)
            this.o.logger?.warn({ err: e, seq: this.seq }, 'correlation index could not follow the change log');
        },
      );
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** False after three consecutive failed timed catch-ups. */
  get healthy(): boolean {
    return this.failures < 3;
  }

  private async run(store: Store, opts: { limit?: number; pageSize?: number }): Promise<CatchUpResult> {
    const limit = opts.limit ?? Number.POSITIVE_INFINITY;
    const pageSize = opts.pageSize ?? 2000;
    let seq = this.seq;
    const head = await store.head();
    if (seq > head) {
      this.o.logger?.warn(
        { seq, head },
        'correlation index is ahead of the store change log (store replaced?); rebuilding',
      );
      resetCorrelationDb(this.db);
      this.setMeta.run('max_fanout', String(this.maxFanout));
      this.init();
      seq = 0;
    }
    let applied = 0;
    for (;;) {
      const page = await store.changes(seq, Math.min(pageSize, limit - applied));
      if (page.changes.length === 0) return this.done(applied, seq, true);
      for (let i = 0; i < page.changes.length; i += CORRELATION_SLICE) {
        if (i > 0) await nextTurn();
        const slice = page.changes.slice(i, i + CORRELATION_SLICE);
        const next = last(slice).seq; // i < page.changes.length, so the slice is not empty
        try {
          this.db.transaction(() => {
            for (const c of slice) this.writer.apply(c);
            this.setMeta.run('seq', String(next));
            this.writer.takeCapped();
          })();
        } catch (e) {
          throw correlationIoError(this.path, e);
        }
        applied += slice.length;
        seq = next;
        this.o.metrics?.applied.inc(slice.length);
        await this.o.afterSlice?.(seq);
      }
      if (applied >= limit) return this.done(applied, seq, seq >= (await store.head()));
      await nextTurn();
    }
  }

  private done(applied: number, seq: number, caughtUp: boolean): CatchUpResult {
    this.o.metrics?.seq.set(seq);
    return { applied, seq, caughtUp };
  }

  /**
   * The objects related to `id`, each with the path that links them. Undefined when the index
   * does not know the id. Objects missing from the store, revoked, expired, or above `maxTlp`
   * (as the result or anywhere on its path) are left out.
   */
  async related(store: Store, id: string, o: RelatedOptions = {}): Promise<RelatedResult | undefined> {
    return relatedOf(this.walker, store, id, o, this.o.access);
  }

  /**
   * Names of the malware, actors, intrusion sets, campaigns, tools, attack patterns and reports
   * linked directly to an object (for lookup answers). Synchronous: read from the index only.
   */
  relatedSummary(id: string, maxTlp?: TlpLevel): RelatedSummary {
    const node = this.nodeById.get(id) as number | undefined;
    if (node === undefined) return emptySummary();
    const rows = this.summaryStmt.all(node, node) as { type: number; name: string; tlp: number }[];
    return summaryOf(
      rows.map((r) => ({ type: this.writer.dict.name(r.type), name: r.name, tlp: r.tlp })),
      maxTlp,
    );
  }

  async summary(id: string, maxTlp?: TlpLevel): Promise<RelatedSummary> {
    return this.relatedSummary(id, maxTlp);
  }

  stats(): CorrelatorStats {
    const count = (sql: string) => Number(this.db.prepare(sql).pluck().get());
    const capped = Object.fromEntries(DERIVATIONS.map((d) => [d, 0])) as Record<Derivation, number>;
    for (const r of this.db.prepare('SELECT name, n FROM counter').all() as { name: Derivation; n: number }[])
      capped[r.name] = r.n;
    let bytesOnDisk = 0;
    for (const f of [this.path, `${this.path}-wal`])
      if (this.path !== ':memory:' && existsSync(f)) bytesOnDisk += statSync(f).size;
    const s: CorrelatorStats = {
      seq: this.seq,
      nodes: count('SELECT count(*) FROM node'),
      values: count('SELECT count(*) FROM val'),
      edges: count('SELECT count(*) FROM edge'),
      valueLinks: count('SELECT count(*) FROM vlink'),
      cappedValues: count('SELECT count(*) FROM val WHERE capped = 1'),
      capped,
      bytesOnDisk,
    };
    const m = this.o.metrics;
    if (m) {
      m.values.set(s.values);
      m.links.set({ kind: 'explicit' }, s.edges);
      m.links.set({ kind: 'derived' }, s.valueLinks);
      m.bytes.set(bytesOnDisk);
    }
    return s;
  }

  /** Checkpoints the WAL into the main file (for size measurements and clean shutdowns). */
  checkpoint(): void {
    if (this.path !== ':memory:') this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async close(): Promise<void> {
    this.stop();
    await this.running?.catch(() => undefined);
    if (this.db.open) {
      this.checkpoint();
      this.db.close();
    }
  }
}
