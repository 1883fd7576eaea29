import { randomUUID } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AccessPolicy } from '../access/policy.js';
import { INTERNAL_CURSOR_PREFIX, type Store } from '../store/contract.js';
import { RETENTION_CURSOR } from '../store/retention.js';
import type { Logger } from '../telemetry/logger.js';
import { applyChangeLog } from './build.js';
import type { IndexFollower } from './follower.js';
import type { LookupIndex } from './lookup-index.js';
import { LOOKUP_SNAPSHOT_FILE, accessFingerprint, readLookupSnapshot, writeLookupSnapshot } from './snapshot.js';
import { SnapshotUnusable } from './snapshot-codec.js';
import type { LookupIndexOptions } from './types.js';

/** The store cursor holding the token of the snapshot last written (docs/adr/0020-lookup-snapshot.md). */
export const SNAPSHOT_CURSOR = `${INTERNAL_CURSOR_PREFIX}lookup-snapshot`;

export interface SnapshotKeeperOptions {
  dataDir: string;
  store: Store;
  access: AccessPolicy;
  logger: Logger;
  /** How often a snapshot is written while running (0: only at a clean stop). */
  intervalMs: number;
}

/**
 * Restores the lookup index from its snapshot at start and writes the snapshot while running and
 * at a clean stop. A snapshot is used only when the token inside it is the one the store holds in
 * its `lookup-snapshot` cursor (written after the file is complete) and the store's change log
 * reaches its sequence; the index is then caught up from the change log like after any start.
 * Anything else (no file, a damaged file, another store, a changed access policy) costs only the
 * ordinary build from the store, with the reason logged.
 */
export class SnapshotKeeper {
  private timer?: NodeJS.Timeout;
  private savedSeq = -1;
  private saving?: Promise<void>;
  readonly path: string;

  constructor(private readonly o: SnapshotKeeperOptions) {
    this.path = join(o.dataDir, LOOKUP_SNAPSHOT_FILE);
  }

  /** The index from the snapshot, or undefined (the reason logged) when it cannot be used. */
  async load(opts: LookupIndexOptions & { now?: () => number }): Promise<LookupIndex | undefined> {
    const log = this.o.logger;
    const t0 = performance.now();
    try {
      const token = await this.o.store.getCursor(SNAPSHOT_CURSOR);
      if (!token) throw new SnapshotUnusable('the store holds no snapshot token (first start, or no clean stop yet)');
      const index = await readLookupSnapshot(this.path, { token, policy: accessFingerprint(this.o.access) }, opts);
      const head = await this.o.store.head();
      if (index.seq > head)
        throw new SnapshotUnusable(`the snapshot is ahead of the store's change log (${index.seq} > ${head})`);
      // retention deleted changes the catch-up would need (a revoke it never sees would stay a hit)
      const purged = Number((await this.o.store.getCursor(RETENTION_CURSOR)) ?? 0);
      if (purged > index.seq)
        throw new SnapshotUnusable(`retention deleted changes after the snapshot (through ${purged} > ${index.seq})`);
      this.savedSeq = index.seq;
      const from = index.seq;
      const { seq, applied } = await applyChangeLog(this.o.store, index, index.seq);
      index.seq = Math.max(index.seq, seq);
      log.info(
        { indicators: index.size, seq: from, caughtUp: applied, secs: round((performance.now() - t0) / 1000) },
        'lookup index restored from its snapshot and caught up from the change log',
      );
      return index;
    } catch (e) {
      if (!(e instanceof SnapshotUnusable)) throw e;
      log.info(
        { reason: e.message, file: this.path },
        'lookup index snapshot not used; building the index from the store',
      );
      return undefined;
    }
  }

  /** Writes a snapshot every `intervalMs` while running (when the index moved on since the last one). */
  start(index: LookupIndex, follower: IndexFollower): void {
    if (this.o.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.save(index, follower).catch(() => undefined), this.o.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes the final snapshot (the follower must be stopped first). */
  async stop(index: LookupIndex, follower: IndexFollower): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.saving?.catch(() => undefined);
    await this.save(index, follower).catch(() => undefined);
  }

  /** Writes a snapshot of `index` between two follower polls; failures are logged, never thrown past the caller's catch. */
  save(index: LookupIndex, follower: IndexFollower): Promise<void> {
    this.saving ??= follower
      .exclusive(() => this.write(index))
      .finally(() => {
        this.saving = undefined;
      });
    return this.saving;
  }

  private async write(index: LookupIndex): Promise<void> {
    if (index.seq === this.savedSeq) return;
    const log = this.o.logger;
    const t0 = performance.now();
    const token = randomUUID();
    const tmp = `${this.path}.new`;
    try {
      const bytes = await writeLookupSnapshot(tmp, index, { token, policy: accessFingerprint(this.o.access) });
      renameSync(tmp, this.path);
      await this.o.store.setCursor(SNAPSHOT_CURSOR, token);
      this.savedSeq = index.seq;
      log.info(
        {
          indicators: index.size,
          seq: index.seq,
          mb: round(bytes / 1048576),
          secs: round((performance.now() - t0) / 1000),
        },
        'lookup index snapshot written',
      );
    } catch (e) {
      rmSync(tmp, { force: true });
      log.warn(
        { err: e, file: this.path },
        'lookup index snapshot could not be written; the next start builds the index from the store',
      );
      throw e;
    }
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
