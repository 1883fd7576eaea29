import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import type { AccessPolicy } from '../access/policy.js';
import type { Store } from '../store/contract.js';
import type { LinksIndex } from '../store/opensearch/links.js';
import type { Logger } from '../telemetry/logger.js';
import { CORRELATION_SLICE, Correlator } from './correlator.js';
import { openCorrelationDb, resetCorrelationDb } from './db.js';
import type { CorrelationMetrics } from './metrics.js';
import { installMirrorTriggers, MirrorLoader, MirrorReader } from './mirror.js';

export interface SharedWriterOptions {
  store: Store;
  links: LinksIndex;
  /** Directory of the lease holder's working copy (`correlation.db`, a cache of the links index). */
  dir: string;
  /** This instance's name in leases. */
  holder: string;
  leaseTtlMs: number;
  maxFanout: number;
  pageSize: number;
  /**
   * Changed rows that make a publish between two slices (default PUBLISH_ROWS); the rest is
   * published at the end of each tick. Fewer, larger publishes cost fewer round trips.
   */
  publishRows?: number;
  now: () => number;
  logger?: Logger;
  metrics?: CorrelationMetrics;
  access?: AccessPolicy;
  /** True while an ingest runs: a tick then applies one slice only (as the embedded index does). */
  busy?: () => boolean;
}

/** Changed rows that trigger a publish in the middle of a catch-up (about 1,000 changes' worth). */
export const PUBLISH_ROWS = 5000;

/** What one instance's writer did (for metrics and tests). */
export interface SharedWriterCounts {
  /** Change-log entries this instance applied. */
  applied: number;
  /** Link documents this instance wrote (index or delete). */
  written: number;
  /** Publishes (undo, documents, cursor) this instance completed. */
  publishes: number;
  /** Times this instance took the lease and opened its working copy. */
  takeovers: number;
  /** Documents this instance loaded from the links index when taking over. */
  loaded: number;
}

interface Cursor {
  seq: number;
  gen: string;
  pub: number;
}

/** The published cursor's sequence and publish count (0 when none was published). */
function parseCursor(s: string): { seq: number; pub: number } {
  const c: unknown = s ? JSON.parse(s) : undefined;
  const n = (k: string): number => {
    const v: unknown = typeof c === 'object' && c !== null ? Reflect.get(c, k) : undefined;
    return typeof v === 'number' ? v : 0;
  };
  return { seq: n('seq'), pub: n('pub') };
}

/**
 * Computes the shared correlation index once for the fleet. The lease holder applies the change
 * log with the SQLite correlator (the same derivations, caps and order as the embedded index) on a
 * local working copy whose row changes are captured by triggers, and after each slice publishes
 * the changed rows to `<prefix>-links` (LinksIndex.publish: undo images, documents, cursor).
 *
 * Taking over: a publish cut short is rolled back, then the working copy is reused when it is
 * exactly what the cursor names (the same holder coming back), otherwise emptied and loaded from
 * the links index. The change log is never replayed from the start on a hand-over.
 */
export class SharedCorrelationWriter {
  private correlator?: Correlator;
  private reader?: MirrorReader;
  private db?: Database.Database;
  private cursor = '';
  private readonly gen = randomBytes(6).toString('hex');
  private pub = 0;
  private running?: Promise<boolean>;
  readonly counts: SharedWriterCounts = { applied: 0, written: 0, publishes: 0, takeovers: 0, loaded: 0 };

  constructor(private readonly o: SharedWriterOptions) {}

  /** True while this instance holds the lease and its working copy is open. */
  get leading(): boolean {
    return this.correlator !== undefined;
  }

  /**
   * Takes or renews the lease; as its holder, applies the change log up to its head and publishes.
   * False when another instance holds the lease. Overlapping calls share the step in progress.
   */
  tick(): Promise<boolean> {
    this.running ??= this.step().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async step(): Promise<boolean> {
    const { store, holder, leaseTtlMs } = this.o;
    if (!(await store.acquireLease(this.o.links.cursorName, holder, leaseTtlMs, this.o.now()))) {
      await this.resign();
      return false;
    }
    try {
      if (!this.correlator) await this.takeOver();
      const c = this.correlator;
      if (!c) return false;
      const r = await c.catchUp(
        store,
        this.o.busy?.() ? { pageSize: this.o.pageSize, limit: CORRELATION_SLICE } : { pageSize: this.o.pageSize },
      );
      this.counts.applied += r.applied;
      await this.publish();
      return true;
    } catch (e) {
      // a publish cut short leaves an undo document: the next holder (maybe this one) rolls back
      await this.resign();
      throw e;
    }
  }

  private async takeOver(): Promise<void> {
    const { links } = this.o;
    await links.ensure();
    if (await links.rollBack()) this.o.logger?.warn({}, 'correlation links: rolled back a publish cut short');
    const published = (await links.cursor()) ?? '';
    const cur = parseCursor(published);
    const { db } = openCorrelationDb(this.o.dir);
    try {
      db.exec('CREATE TABLE IF NOT EXISTS mirror_state(k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID');
      const local: unknown = db.prepare("SELECT v FROM mirror_state WHERE k = 'cursor'").pluck().get();
      const seq = Number(db.prepare("SELECT v FROM meta WHERE k = 'seq'").pluck().get() ?? 0);
      if (local !== published || seq !== cur.seq) {
        resetCorrelationDb(db);
        const loader = new MirrorLoader(db);
        this.counts.loaded += await links.scan((docs) =>
          db.transaction(() => {
            for (const d of docs) loader.load(d);
          })(),
        );
        db.prepare("INSERT OR REPLACE INTO mirror_state(k, v) VALUES ('cursor', ?)").run(published);
      }
    } finally {
      db.close();
    }
    this.cursor = published;
    this.pub = cur.pub;
    this.correlator = new Correlator({
      dataDir: this.o.dir,
      maxFanout: this.o.maxFanout,
      metrics: this.o.metrics,
      logger: this.o.logger,
      access: this.o.access,
      onOpen: (d) => {
        installMirrorTriggers(d);
        this.reader = new MirrorReader(d);
        this.db = d;
      },
      afterSlice: () =>
        (this.reader?.pending() ?? 0) >= (this.o.publishRows ?? PUBLISH_ROWS) ? this.publish() : Promise.resolve(),
    });
    this.counts.takeovers++;
    this.o.logger?.info(
      { seq: this.correlator.seq, holder: this.o.holder },
      'correlation links: writing as lease holder',
    );
  }

  /** Publishes the rows changed since the last publish; renews the lease first (a lost lease stops here). */
  private async publish(): Promise<void> {
    const reader = this.reader;
    const c = this.correlator;
    const db = this.db;
    if (!reader || !c || !db) return;
    const images = reader.images();
    if (images.length === 0) return;
    const { store, holder, leaseTtlMs } = this.o;
    if (!(await store.acquireLease(this.o.links.cursorName, holder, leaseTtlMs, this.o.now())))
      throw new Error(`correlation links: lease ${this.o.links.cursorName} lost to another instance`);
    const next = JSON.stringify({ seq: c.seq, gen: this.gen, pub: this.pub + 1 } satisfies Cursor);
    this.counts.written += await this.o.links.publish(images, this.cursor, next);
    reader.clearDirty();
    db.prepare("INSERT OR REPLACE INTO mirror_state(k, v) VALUES ('cursor', ?)").run(next);
    this.cursor = next;
    this.pub++;
    this.counts.publishes++;
  }

  /** Closes the working copy (the lease went elsewhere, or a publish failed). */
  async resign(): Promise<void> {
    const c = this.correlator;
    this.correlator = undefined;
    this.reader = undefined;
    this.db = undefined;
    if (c) await c.close();
  }

  async close(): Promise<void> {
    await this.running?.catch(() => undefined);
    const held = this.leading;
    await this.resign();
    if (held) await this.o.store.releaseLease(this.o.links.cursorName, this.o.holder).catch(() => undefined);
  }
}
