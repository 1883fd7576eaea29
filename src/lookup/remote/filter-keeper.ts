import { randomUUID } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { INTERNAL_CURSOR_PREFIX, type Store } from '../../store/contract.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { applyChangeLog } from '../build.js';
import type { IndexFollower } from '../follower.js';
import { SnapshotUnusable } from '../snapshot-codec.js';
import { FILTER_SNAPSHOT_FILE, readFilterSnapshot, writeFilterSnapshot } from './filter-snapshot.js';
import { NegativeFilter, type FilterShape } from './negative-filter.js';
import type { RemoteLookup } from './remote-lookup.js';

/** The store cursor naming the store's incarnation (a random id): a filter snapshot of another is refused. */
export const FILTER_STORE_CURSOR = `${INTERNAL_CURSOR_PREFIX}lookup-filter-store`;

export interface FilterKeeperOptions {
  dataDir: string;
  store: Store;
  shape: FilterShape;
  logger: Logger;
  /** How often the snapshot is written while running (0: only at a clean stop). */
  intervalMs: number;
  /** Entries read per page while the filter is built from the store. */
  pageSize?: number;
  /**
   * Share of the capacity the stale values (of revoked or expired indicators) may reach before the
   * filter is rebuilt from the store in the background; 0: never (default 0.1).
   */
  rebuildStaleShare?: number;
  metrics?: Metrics;
}

/**
 * Gives the remote lookups their negative filter (docs/adr/0024-remote-lookups.md): at start from
 * `<data_dir>/lookup-filter.snapshot` caught up from the change log, else built from the store's
 * active values in the background (lookups all ask the store meanwhile); writes the snapshot
 * every `intervalMs` and at a clean stop.
 */
export class FilterKeeper {
  readonly path: string;
  private timer?: NodeJS.Timeout;
  private savedSeq = -1;
  private saving?: Promise<void>;
  private storeIdentity?: string;
  /** The background build, when one runs (tests await it). */
  building?: Promise<void>;
  private stopped = false;
  /** True while a build runs (the first one or a rebuild). */
  private active = false;
  private warnedFull = false;

  constructor(private readonly o: FilterKeeperOptions) {
    this.path = join(o.dataDir, FILTER_SNAPSHOT_FILE);
  }

  /** The store's identity, written into it by the first instance that asks. */
  async storeId(): Promise<string> {
    if (this.storeIdentity) return this.storeIdentity;
    let id = await this.o.store.getCursor(FILTER_STORE_CURSOR);
    if (!id) {
      id = randomUUID();
      await this.o.store.setCursor(FILTER_STORE_CURSOR, id);
    }
    this.storeIdentity = id;
    return id;
  }

  /**
   * Sets `remote` up to follow the change log: from a usable snapshot, caught up to the head
   * (`restored`), or from the head with a filter built in the background. The sequence to follow from.
   */
  async open(remote: RemoteLookup): Promise<{ seq: number; restored: boolean }> {
    const log = this.o.logger;
    const t0 = performance.now();
    const storeId = await this.storeId();
    try {
      const { filter, seq } = await readFilterSnapshot(this.path, { store: storeId, shape: this.o.shape });
      const head = await this.o.store.head();
      if (seq > head) throw new SnapshotUnusable(`the snapshot is ahead of the store's change log (${seq} > ${head})`);
      remote.built(filter);
      remote.seq = seq;
      this.savedSeq = seq;
      const caught = await applyChangeLog(this.o.store, remote, seq);
      remote.seq = Math.max(remote.seq, caught.seq);
      log.info(
        { values: filter.added, seq, caughtUp: caught.applied, secs: round((performance.now() - t0) / 1000) },
        'lookup filter restored from its snapshot and caught up from the change log',
      );
      return { seq: remote.seq, restored: true };
    } catch (e) {
      if (!(e instanceof SnapshotUnusable)) throw e;
      log.info(
        { reason: e.message, file: this.path },
        'lookup filter snapshot not used; building the filter from the store (lookups ask the store meanwhile)',
      );
    }
    const head = await this.o.store.head();
    remote.seq = head;
    this.startBuild(remote);
    return { seq: head, restored: false };
  }

  /** Builds a new filter from the store in the background; the one in use (if any) answers until it is swapped in. */
  private startBuild(remote: RemoteLookup): void {
    const filter = new NegativeFilter(this.o.shape);
    remote.building(filter);
    this.active = true;
    this.building = this.build(remote, filter)
      .catch((e: unknown) => {
        this.o.logger.warn({ err: e }, 'lookup filter could not be built; lookups keep using the filter they had');
      })
      .finally(() => {
        this.active = false;
      });
  }

  /**
   * Rebuilds the filter when it went stale: its stale values passed `rebuildStaleShare` of the
   * capacity, or its fill passed the capacity while the live values (fill - stale) would fit.
   * Called after every indicator change (RemoteLookup.onFilterChange); true when a rebuild started.
   */
  checkRebuild(remote: RemoteLookup): boolean {
    const f = remote.filter;
    const share = this.o.rebuildStaleShare ?? 0.1;
    if (!f || this.active || this.stopped || share <= 0) return false;
    const capacity = f.shape.capacity;
    const live = f.added - f.stale;
    let reason: 'stale' | 'over_capacity' | undefined;
    if (f.stale > share * capacity) reason = 'stale';
    else if (f.added > capacity && live <= capacity) reason = 'over_capacity';
    else if (f.added > capacity && !this.warnedFull) {
      this.warnedFull = true;
      this.o.logger.warn(
        { values: f.added, stale: f.stale, capacity },
        'lookup filter holds more live values than lookup.remote.filter_capacity; its false-positive rate rises (raise the capacity)',
      );
    }
    if (!reason) return false;
    this.o.logger.info(
      { reason, values: f.added, stale: f.stale, capacity, share },
      'lookup filter went stale; rebuilding it from the store in the background',
    );
    this.o.metrics?.filterRebuilds.inc({ reason });
    this.startBuild(remote);
    return true;
  }

  /** Adds every value an active indicator lists (ids and values only, no JSON), then hands the filter over. */
  private async build(remote: RemoteLookup, filter: NegativeFilter): Promise<void> {
    const t0 = performance.now();
    const store = this.o.store;
    const pageSize = this.o.pageSize ?? 10_000;
    if (store.indexEntries) {
      for (let seq = 0; !this.stopped; ) {
        const page = await store.indexEntries(seq, pageSize);
        for (const e of page.entries)
          if (e.type === 'indicator') for (const o of e.observables) filter.add(o.type, o.value);
        if (page.next <= seq) break;
        seq = page.next;
        await nextTurn();
      }
    } else {
      await applyChangeLog(
        store,
        {
          apply: (c) => {
            if (c.type === 'indicator' && c.op === 'upsert') remote.addListed(filter, c);
          },
        },
        0,
        pageSize,
      );
    }
    if (this.stopped) return;
    remote.built(filter);
    this.o.logger.info(
      { values: filter.added, secs: round((performance.now() - t0) / 1000) },
      'lookup filter built from the store',
    );
  }

  /** Writes the snapshot every `intervalMs` while running. */
  start(remote: RemoteLookup, follower: IndexFollower): void {
    remote.onFilterChange = () => void this.checkRebuild(remote);
    if (this.o.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.save(remote, follower).catch(() => undefined), this.o.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and any build, and writes the final snapshot (the follower stopped first). */
  async stop(remote: RemoteLookup, follower: IndexFollower): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.building;
    await this.saving?.catch(() => undefined);
    await this.save(remote, follower).catch(() => undefined);
  }

  /** Writes a snapshot between two follower polls when the filter is complete and moved on. */
  save(remote: RemoteLookup, follower: IndexFollower): Promise<void> {
    this.saving ??= follower
      .exclusive(() => this.write(remote))
      .finally(() => {
        this.saving = undefined;
      });
    return this.saving;
  }

  private async write(remote: RemoteLookup): Promise<void> {
    const filter = remote.filter;
    if (!filter || remote.seq === this.savedSeq) return;
    const seq = remote.seq;
    const t0 = performance.now();
    const tmp = `${this.path}.new`;
    try {
      const bytes = await writeFilterSnapshot(tmp, filter, seq, await this.storeId());
      renameSync(tmp, this.path);
      this.savedSeq = seq;
      this.o.logger.info(
        { values: filter.added, seq, mb: round(bytes / 1048576), secs: round((performance.now() - t0) / 1000) },
        'lookup filter snapshot written',
      );
    } catch (e) {
      rmSync(tmp, { force: true });
      this.o.logger.warn({ err: e, file: this.path }, 'lookup filter snapshot could not be written');
      throw e;
    }
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
