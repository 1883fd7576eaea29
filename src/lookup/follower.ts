import type { Store } from '../store/contract.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Logger } from '../telemetry/logger.js';
import type { LookupIndex } from './lookup-index.js';

/** What the follower keeps current: the in-memory index, or the remote lookups' filter and cache (src/lookup/remote). */
export type FollowedIndex = Pick<LookupIndex, 'apply' | 'sweep' | 'sizes'> & MetricsPublisher;

/** An index that reports its own gauges (the remote lookups: filter and cache) instead of per-kind entries. */
export interface MetricsPublisher {
  publishMetrics?(m: Metrics): void;
}

/** Sets the lookup gauges from `index`: its own (publishMetrics) or `stixgate_lookup_index_entries` by kind. */
export function publishIndexMetrics(m: Metrics, index: Pick<LookupIndex, 'sizes' | 'seq'> & MetricsPublisher): void {
  m.indexSeq.set(index.seq);
  if (index.publishMetrics) index.publishMetrics(m);
  else for (const [kind, n] of Object.entries(index.sizes())) m.indexEntries.set({ kind }, n);
}
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Changes read and applied per event-loop turn (a page of 1,000 applies in a few ms). */
export const FOLLOW_PAGE = 1_000;

export interface IndexFollowerOptions {
  /** Change-log sequence the index already holds (from buildIndex). */
  from: number;
  intervalMs?: number;
  /** How often the in-memory expiry sweep runs. Default 10 s. */
  sweepIntervalMs?: number;
  /** Changes applied per event-loop turn (default FOLLOW_PAGE). */
  pageSize?: number;
  /** Consecutive failed polls after which `healthy` turns false. Default 3. */
  unhealthyAfterFailures?: number;
  now?: () => number;
  metrics?: Metrics;
  logger?: Logger;
}

/**
 * Keeps a LookupIndex current: polls the change log after `seq` every `intervalMs`, applies the
 * changes in order, a page per event-loop turn, and sweeps indicators whose valid_until has passed (before the store's own
 * expiry job logs them).
 */
export class IndexFollower {
  seq: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private lastSweep = 0;
  private failures = 0;
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly index: FollowedIndex,
    private readonly opts: IndexFollowerOptions,
  ) {
    this.seq = opts.from;
    this.now = opts.now ?? Date.now;
    this.publish();
  }

  /**
   * False after `unhealthyAfterFailures` consecutive failed polls (default 3): the index may be
   * missing changes, so lookups must not answer "not found" from it.
   */
  get healthy(): boolean {
    return this.failures < (this.opts.unhealthyAfterFailures ?? 3);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs ?? 500);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Runs `fn` between two polls: the index does not change while it runs (lookups go on). Polls
   * due meanwhile wait for it.
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.running) await this.running;
    const run = fn();
    this.running = run
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        this.running = undefined;
      });
    return run;
  }

  /** One poll (and sweep when due). Overlapping calls share the run in progress. */
  tick(): Promise<void> {
    this.running ??= this.poll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async poll(): Promise<void> {
    const pageSize = this.opts.pageSize ?? FOLLOW_PAGE;
    try {
      for (;;) {
        const page = await this.store.changes(this.seq, pageSize);
        for (const change of page.changes) this.index.apply(change);
        if (page.next > this.seq) this.seq = page.next;
        if (page.changes.length < pageSize) break;
        // a long catch-up (after a large ingest) leaves lookups a turn between pages
        await nextTurn();
      }
      if (this.failures > 0) this.opts.logger?.info({ seq: this.seq }, 'lookup index follower recovered');
      this.failures = 0;
    } catch (e) {
      // the store may be briefly unavailable; keep serving the current index and retry next tick
      if (this.failures++ === 0)
        this.opts.logger?.warn({ err: e, seq: this.seq }, 'lookup index follower could not read the change log');
    }
    const now = this.now();
    if (now - this.lastSweep >= (this.opts.sweepIntervalMs ?? 10_000)) {
      this.lastSweep = now;
      this.index.sweep(now);
    }
    this.publish();
  }

  private publish(): void {
    const m = this.opts.metrics;
    if (!m) return;
    publishIndexMetrics(m, {
      seq: this.seq,
      sizes: () => this.index.sizes(),
      publishMetrics: this.index.publishMetrics?.bind(this.index),
    });
  }
}
