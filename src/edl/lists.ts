import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Store } from '../store/contract.js';
import type { Logger } from '../telemetry/logger.js';
import type { EdlKind } from './formats.js';
import type { Snapshot } from './kind-list.js';
import { ListView, type ListViewOptions } from './list-view.js';
import type { EdlConfig } from './schema.js';

/** Changes read and applied per event-loop turn while following the change log. */
export const EDL_PAGE = 1_000;

export interface EdlListsOptions extends ListViewOptions {
  now?: () => number;
  logger?: Logger;
  /** Changes (or active indicators at start-up) read per store call (default EDL_PAGE). */
  pageSize?: number;
}

/** What a request for one list gets: its body and validators, or why there is none. */
export type ListLookup = { snapshot: Snapshot; maxTlp: string } | { missing: 'list' | 'kind' };

/**
 * The configured firewall lists, kept current from the store's change log as the lookup index is
 * (src/lookup/follower.ts): `build` reads the active indicators once, then `tick` applies the
 * changes after `seq` and rebuilds only the bodies whose lines changed. Requests read the
 * prebuilt body (`get`), never the store.
 */
export class EdlLists {
  seq = 0;
  private readonly views = new Map<string, ListView>();
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private failures = 0;
  /** Store calls made (an operation count: a request never adds to it). */
  storeReads = 0;
  /** Change-log entries and active indicators applied. */
  applied = 0;

  constructor(
    private readonly store: Store,
    private readonly config: EdlConfig,
    private readonly o: EdlListsOptions,
  ) {
    this.now = o.now ?? Date.now;
    this.reset();
  }

  get names(): string[] {
    return [...this.views.keys()];
  }

  /** The body of `list`'s `kind`, as last regenerated. */
  get(list: string, kind: EdlKind): ListLookup {
    const v = Object.hasOwn(this.config.lists, list) ? this.views.get(list) : undefined;
    if (!v) return { missing: 'list' };
    const k = v.kinds.get(kind);
    if (!k) return { missing: 'kind' };
    return { snapshot: k.snapshot, maxTlp: this.config.lists[list].max_tlp };
  }

  /** Fills the lists from the store (its active indicators, else the whole change log) and builds every body. */
  async build(): Promise<void> {
    const pageSize = this.o.pageSize ?? EDL_PAGE;
    const now = this.now();
    let seq = 0;
    if (this.store.activeIndicators) {
      for (;;) {
        this.storeReads++;
        const page = await this.store.activeIndicators(seq, pageSize);
        for (const a of page.indicators) this.applyOne(a.object, 'upsert', now);
        if (page.next > seq) seq = page.next;
        if (page.done || page.indicators.length === 0) break;
      }
      this.seq = seq;
    } else {
      await this.follow();
    }
    this.regenerate();
  }

  /** Forgets every line and builds again from the store (after the warninglists changed). */
  rebuild(): Promise<void> {
    const run: Promise<void> = (this.running ?? Promise.resolve())
      .then(() => {
        this.reset();
        return this.build();
      })
      .finally(() => {
        if (this.running === run) this.running = undefined;
      });
    this.running = run;
    return run;
  }

  start(intervalMs = this.config.follow_interval_ms): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Applies the changes after `seq` and regenerates what changed. Overlapping calls share the run in progress. */
  tick(): Promise<void> {
    this.running ??= this.follow()
      .then(() => {
        this.regenerate();
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async follow(): Promise<void> {
    const pageSize = this.o.pageSize ?? EDL_PAGE;
    try {
      for (;;) {
        this.storeReads++;
        const page = await this.store.changes(this.seq, pageSize);
        const now = this.now();
        for (const c of page.changes) this.applyOne(c.object, c.op, now);
        if (page.next > this.seq) this.seq = page.next;
        if (page.changes.length < pageSize) break;
        await nextTurn();
      }
      if (this.failures > 0) this.o.logger?.info({ seq: this.seq }, 'firewall lists follow the change log again');
      this.failures = 0;
    } catch (e) {
      // keep serving the current bodies; the next tick retries from the same seq
      if (this.failures++ === 0) this.o.logger?.warn({ err: e, seq: this.seq }, 'firewall lists could not read the change log');
    }
  }

  private applyOne(obj: Parameters<ListView['apply']>[0], op: Parameters<ListView['apply']>[1], now: number): void {
    this.applied++;
    for (const v of this.views.values()) v.apply(obj, op, now);
  }

  /** Rebuilds the bodies whose lines changed; returns how many. */
  regenerate(): number {
    const now = this.now();
    let n = 0;
    for (const v of this.views.values()) n += v.regenerate(now);
    this.o.metrics?.seq.set(this.seq);
    return n;
  }

  private reset(): void {
    const now = this.now();
    this.views.clear();
    this.seq = 0;
    for (const [name, c] of Object.entries(this.config.lists)) this.views.set(name, new ListView(name, c, this.o, now));
  }
}
