import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Change, Store } from '../store/contract.js';
import type { Observable, StixObject, TlpLevel } from '../core/stix.js';
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

/** What a request for one list gets: its body and validators (empty until `ready`), or why there is none. */
export type ListLookup = { snapshot: Snapshot; maxTlp: TlpLevel } | { missing: 'list' | 'kind' };

/**
 * The configured firewall lists, kept current from the store's change log as the lookup index is
 * (src/lookup/follower.ts): `build` reads the active indicators once, then `tick` applies the
 * changes after `seq` and rebuilds only the bodies whose lines changed. Requests read the
 * prebuilt body (`get`), never the store.
 */
export class EdlLists {
  seq = 0;
  private views = new Map<string, ListView>();
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private failures = 0;
  /** Store calls made (an operation count: a request never adds to it). */
  storeReads = 0;
  /** Change-log entries and active indicators applied. */
  applied = 0;
  /** The first build is in place (before it, `get` finds no snapshot). */
  ready = false;
  private stopped = false;
  private retry?: NodeJS.Timeout;
  private wake?: () => void;

  constructor(
    private readonly store: Store,
    private readonly config: EdlConfig,
    private readonly o: EdlListsOptions,
  ) {
    this.now = o.now ?? Date.now;
    this.views = this.freshViews();
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
    const listConfig = this.config.lists[list];
    if (!listConfig) return { missing: 'list' };
    return { snapshot: k.snapshot, maxTlp: listConfig.max_tlp };
  }

  /**
   * Fills fresh lists from the store (its active indicators, else the whole change log), builds
   * every body, and only then puts them in place: requests meanwhile get the previous bodies.
   */
  async build(): Promise<void> {
    const views = this.freshViews();
    const pageSize = this.o.pageSize ?? EDL_PAGE;
    const now = this.now();
    let seq = 0;
    if (this.store.activeIndicators) {
      for (;;) {
        this.storeReads++;
        const page = await this.store.activeIndicators(seq, pageSize);
        for (const a of page.indicators) this.applyOne(views, a.object, 'upsert', now, a.observables);
        if (page.next > seq) seq = page.next;
        if (page.done || page.indicators.length === 0) break;
      }
    } else {
      seq = await this.follow(views, 0, true);
    }
    this.regenerateViews(views);
    this.views = views;
    this.seq = seq;
    this.ready = true;
    this.o.metrics?.seq.set(seq);
  }

  /**
   * Builds the lists in the background, then follows the change log (`start`): the server
   * listens meanwhile and answers 503 with Retry-After for a list until its first build is in
   * place. A failed build (the store did not answer) is logged and tried again after
   * `follow_interval_ms`. Resolves when the first build is in place, or when stopped before.
   */
  open(intervalMs = this.config.follow_interval_ms): Promise<void> {
    const attempt = async (): Promise<void> => {
      for (let failures = 0; !this.stopped; failures++) {
        try {
          await this.rebuild();
          if (!this.stopped) this.start(intervalMs);
          return;
        } catch (e) {
          if (failures === 0) this.o.logger?.warn({ err: e }, 'firewall lists could not be built; trying again');
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            this.retry = setTimeout(resolve, intervalMs);
            this.retry.unref();
          });
        }
      }
    };
    return attempt();
  }

  /** Builds the lists again from the store (after the warninglists changed), serving the current ones meanwhile. */
  rebuild(): Promise<void> {
    const run: Promise<void> = (this.running ?? Promise.resolve())
      .then(() => this.build())
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

  /** Stops following (and a background first build from retrying). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.retry) clearTimeout(this.retry);
    this.wake?.();
    this.timer = undefined;
  }

  /** Applies the changes after `seq` and regenerates what changed. Overlapping calls share the run in progress. */
  tick(): Promise<void> {
    this.running ??= this.follow(this.views, this.seq)
      .then((seq) => {
        this.seq = seq;
        this.regenerate();
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /**
   * Applies the changes after `from` to `views`; returns the seq reached (on a store error, where
   * it stopped; a first build, `rethrow`, fails instead of putting a partial list in place).
   */
  private async follow(views: Map<string, ListView>, from: number, rethrow = false): Promise<number> {
    const pageSize = this.o.pageSize ?? EDL_PAGE;
    let seq = from;
    try {
      for (;;) {
        this.storeReads++;
        const page = await this.store.changes(seq, pageSize);
        const now = this.now();
        for (const c of page.changes) this.applyOne(views, c.object, c.op, now);
        if (page.next > seq) seq = page.next;
        if (page.changes.length < pageSize) break;
        await nextTurn();
      }
      if (this.failures > 0) this.o.logger?.info({ seq }, 'firewall lists follow the change log again');
      this.failures = 0;
    } catch (e) {
      if (rethrow) throw e;
      // keep serving the current bodies; the next tick retries from where this one stopped
      if (this.failures++ === 0) this.o.logger?.warn({ err: e, seq }, 'firewall lists could not read the change log');
    }
    return seq;
  }

  private applyOne(
    views: Map<string, ListView>,
    obj: StixObject,
    op: Change['op'],
    now: number,
    observables?: Observable[] | null,
  ): void {
    this.applied++;
    for (const v of views.values()) v.apply(obj, op, now, observables);
  }

  /** Rebuilds the bodies whose lines changed; returns how many. */
  regenerate(): number {
    const n = this.regenerateViews(this.views);
    this.o.metrics?.seq.set(this.seq);
    return n;
  }

  private regenerateViews(views: Map<string, ListView>): number {
    const now = this.now();
    let n = 0;
    for (const v of views.values()) n += v.regenerate(now);
    return n;
  }

  private freshViews(): Map<string, ListView> {
    const now = this.now();
    const views = new Map<string, ListView>();
    for (const [name, c] of Object.entries(this.config.lists)) views.set(name, new ListView(name, c, this.o, now));
    return views;
  }
}
