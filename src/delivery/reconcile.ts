import { tmpdir } from 'node:os';
import { StixgateError } from '../core/errors.js';
import type { TlpLevel } from '../core/stix.js';
import { batchesOf } from './select.js';
import { call as retrying, emptySummary, sendBatch, type SinkRunOptions, type SinkRunSummary } from './runner.js';
import { SortedSpill, cmp } from './reconcile-spill.js';
import { rebuildRecords, spillDesired, type DesiredEntry } from './reconcile-desired.js';
import type { RemoteEntry, Schedule, SinkReconciler, SinkRecord, SinkRunContext } from './types.js';
import type { LedgerUpdate } from '../store/ledger.js';
import { removalUpdates, repairUpdate } from './reconcile-ledger.js';

/**
 * Reconcile (docs/reconcile.md): read what the product holds through its read API, compare it with
 * what the sink's view of the store says it should hold, and, when applying, repair the difference
 * with the sink's own bulk writes. Both sides are spilled to sorted runs on disk and merged by key,
 * so memory stays bounded by the run size whatever the number of entries.
 *
 *  - missing: expected, not held → upserted;
 *  - stale: held by stixgate with other content → upserted (the newest indicator holding the value);
 *  - extra: held by stixgate, not expected → removed through `SinkReconciler.removeExtra`;
 *  - foreign: held, not written by stixgate → listed and left alone (also when it holds an expected
 *    value: the product holds the value, and taking the entry over would change another tool's data).
 */

export const DRIFT_KINDS = ['missing', 'stale', 'extra', 'foreign'] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

export interface PlanItem {
  key: string;
  label: string;
  /** The TLP of the sink's view (expected entries) or the sink's ceiling (entries read back). */
  tlp: TlpLevel;
}

export interface ReconcileResult {
  sink: string;
  type: string;
  /** What was read (e.g. `KV collection search/stixgate_iocs`). */
  remote: string;
  applied: boolean;
  /** Entries read from the product, and entries the store expects there. */
  read: number;
  expected: number;
  counts: Record<DriftKind | 'in_sync', number>;
  /** The first `listLimit` entries of each kind (counts cover all). */
  items: Record<DriftKind, PlanItem[]>;
  truncated: boolean;
  /** When applied: values written and removed, rejected (dead-letter file), gone from the store meanwhile. */
  repaired?: { upserted: number; removed: number; rejected: number; retried: number; gone: number };
  /** Drift left after this run (the `stixgate_sink_drift_items` values). */
  remaining: Record<DriftKind, number>;
}

export interface ReconcileOptions extends Omit<SinkRunOptions, 'full' | 'dryRun' | 'pageSize'> {
  /** Repair the difference (`stixgate reconcile`); false lists it only (`stixgate plan`). */
  apply: boolean;
  /** Entries listed per kind (default 100). */
  listLimit?: number;
  /** Items per sorted run in memory (default 50,000). */
  chunk?: number;
  /** Where the sorted runs go (default the OS temporary directory). */
  tmpDir?: string;
  /** The reconciler's spill statistics are reported here (tests, bench). */
  onSpill?: (s: { desired: SortedSpill<DesiredEntry>['stats']; remote: SortedSpill<RemoteEntry>['stats'] }) => void;
}

/** The sink type's reconciler, or a clear error naming why this sink cannot be reconciled. */
export function reconcilerOf(o: Pick<ReconcileOptions, 'id' | 'sink' | 'config'>): SinkReconciler {
  if (o.sink.reconciler) return o.sink.reconciler;
  const why = o.sink.unreadable ?? 'its integration has no read API to compare with';
  throw new StixgateError(
    'STIXGATE_ERR_SINK_UNREADABLE',
    `sink ${o.id} (${o.config.type}) cannot be reconciled: ${why}`,
    { reason: 'unreadable' },
  );
}

export async function reconcileSink(o: ReconcileOptions): Promise<ReconcileResult> {
  const rec = reconcilerOf(o);
  const ctx: SinkRunContext = { id: o.id, logger: o.logger, http: o.http, signal: o.signal, now: o.now() };
  const schedule: Schedule = (fn) => o.limiter.schedule(fn);
  const root = o.tmpDir ?? tmpdir();
  const desired = new SortedSpill<DesiredEntry>(root, (e) => e.k, o.chunk);
  const remote = new SortedSpill<RemoteEntry>(root, (e) => e.key, o.chunk);
  const limit = o.listLimit ?? 100;
  const res: ReconcileResult = {
    sink: o.id,
    type: o.config.type,
    remote: rec.describe(),
    applied: o.apply,
    read: 0,
    expected: 0,
    counts: { missing: 0, stale: 0, extra: 0, foreign: 0, in_sync: 0 },
    items: { missing: [], stale: [], extra: [], foreign: [] },
    truncated: false,
    remaining: { missing: 0, stale: 0, extra: 0, foreign: 0 },
  };
  try {
    // the product first: reading connects the reconciler (e.g. the API version), which `expected` may depend on
    for await (const page of rec.read(ctx, schedule)) {
      if (o.signal.aborted) break;
      for (const e of page) await remote.add(e);
    }
    await spillDesired(o, rec, desired);
    if (rec.foreignCount) res.counts.foreign += await rec.foreignCount(ctx, schedule);
    aborted(o);
    res.read = remote.stats.items;
    res.expected = desired.stats.items;
    const repair = o.apply ? new Repairs(o, rec, ctx, schedule) : undefined;
    if (repair) await retrying(o, () => o.sink.prepare?.(ctx) ?? Promise.resolve(), 'prepare');
    const note = (kind: DriftKind, item: PlanItem) => {
      res.counts[kind]++;
      if (res.items[kind].length < limit) res.items[kind].push(item);
      else res.truncated = true;
    };
    for await (const g of joined(desired.sorted(), remote.sorted())) {
      aborted(o);
      const own = g.remote.filter((r) => !r.foreign);
      for (const f of g.remote.filter((r) => r.foreign))
        note('foreign', { key: f.key, label: f.label, tlp: o.config.max_tlp });
      if (g.desired.length === 0) {
        for (const r of own) {
          note('extra', { key: r.key, label: r.label, tlp: o.config.max_tlp });
          await repair?.remove(r);
        }
        continue;
      }
      if (own.length === 0) {
        if (g.remote.length) continue; // a foreign entry holds the value
        const best = newest(g.desired);
        note('missing', { key: best.k, label: best.l, tlp: best.t });
        await repair?.upsert('missing', best);
        continue;
      }
      const current = own.find((r) => g.desired.some((d) => (rec.same ? rec.same(r.digest, d.d) : r.digest === d.d)));
      if (current) res.counts.in_sync++;
      else {
        const best = newest(g.desired);
        note('stale', { key: best.k, label: best.l, tlp: best.t });
        await repair?.upsert('stale', best);
      }
      // more than one entry of stixgate's for one key: the ones beyond the first are extra
      for (const r of own.filter((x) => x !== (current ?? own[0]))) {
        note('extra', { key: r.key, label: r.label, tlp: o.config.max_tlp });
        await repair?.remove(r);
      }
    }
    if (repair) {
      await repair.flush();
      res.repaired = repair.summary();
      res.remaining = { missing: repair.left.missing, stale: repair.left.stale, extra: 0, foreign: res.counts.foreign };
    } else {
      res.remaining = {
        missing: res.counts.missing,
        stale: res.counts.stale,
        extra: res.counts.extra,
        foreign: res.counts.foreign,
      };
    }
    o.onSpill?.({ desired: desired.stats, remote: remote.stats });
    report(o, res);
    return res;
  } finally {
    desired.close();
    remote.close();
  }
}

function aborted(o: ReconcileOptions): void {
  if (o.signal.aborted)
    throw new StixgateError('STIXGATE_ERR_JOB_ABORTED', `sink ${o.id}: reconcile aborted`, { reason: 'aborted' });
}

/** Among several indicators holding one value: the newest `modified`, then the greatest id. */
function newest(ds: DesiredEntry[]): DesiredEntry {
  return ds.reduce((a, b) => (cmp(b.m, a.m) > 0 || (b.m === a.m && cmp(b.id, a.id) > 0) ? b : a));
}

/** Drift gauges and the last-reconcile time (an applied run that completed). */
function report(o: ReconcileOptions, res: ReconcileResult): void {
  if (!o.metrics) return;
  for (const kind of DRIFT_KINDS) o.metrics.sinkDrift.set({ sink: o.id, kind }, res.remaining[kind]);
  if (res.applied) o.metrics.sinkLastReconcile.set({ sink: o.id }, o.now() / 1000);
}

/** Groups two key-sorted streams by key: each key once, with its entries from either side. */
export async function* joined(
  d: AsyncIterator<DesiredEntry>,
  r: AsyncIterator<RemoteEntry>,
): AsyncGenerator<{ desired: DesiredEntry[]; remote: RemoteEntry[] }> {
  let dh = await d.next();
  let rh = await r.next();
  while (!dh.done || !rh.done) {
    let key: string;
    if (!dh.done && (rh.done || cmp(dh.value.k, rh.value.key) <= 0)) key = dh.value.k;
    else if (!rh.done) key = rh.value.key;
    else break; // both done: the loop condition ends here
    const g: { desired: DesiredEntry[]; remote: RemoteEntry[] } = { desired: [], remote: [] };
    while (!dh.done && dh.value.k === key) {
      g.desired.push(dh.value);
      dh = await d.next();
    }
    while (!rh.done && rh.value.key === key) {
      g.remote.push(rh.value);
      rh = await r.next();
    }
    yield g;
  }
}

/**
 * The writes of an applied reconcile, in batches of the sink's limits: upserts go through the push
 * path's `sendBatch` (retries, Retry-After, bisection of refused batches, dead-letter file),
 * removals through the reconciler with the runner's retries. Kept per kind so that the drift left
 * (rejected values) is known per kind.
 */
class Repairs {
  private queue: Record<'missing' | 'stale', { id: string; key: string }[]> = { missing: [], stale: [] };
  private removals: RemoteEntry[] = [];
  private readonly sum: SinkRunSummary = emptySummary();
  private gone = 0;
  readonly left = { missing: 0, stale: 0 };
  private readonly maxBatch: number;

  constructor(
    private readonly o: ReconcileOptions,
    private readonly rec: SinkReconciler,
    private readonly ctx: SinkRunContext,
    private readonly schedule: Schedule,
  ) {
    this.maxBatch = Math.max(1, Math.min(o.sink.limits.maxBatch, o.config.batch_size ?? o.sink.limits.maxBatch));
  }

  async upsert(kind: 'missing' | 'stale', d: DesiredEntry): Promise<void> {
    this.queue[kind].push({ id: d.id, key: d.k });
    if (this.queue[kind].length >= this.maxBatch) await this.flushUpserts(kind);
  }

  async remove(r: RemoteEntry): Promise<void> {
    this.removals.push(r);
    if (this.removals.length >= this.maxBatch) await this.flushRemovals();
  }

  async flush(): Promise<void> {
    await this.flushUpserts('missing');
    await this.flushUpserts('stale');
    await this.flushRemovals();
  }

  private async flushUpserts(kind: 'missing' | 'stale'): Promise<void> {
    const want = this.queue[kind];
    this.queue[kind] = [];
    if (want.length === 0) return;
    const { records, gone } = await rebuildRecords(want, this.o, this.rec);
    this.gone += gone;
    const before = this.sum.rejected;
    const settled: LedgerUpdate[] = [];
    for (const b of batchesOf(
      records,
      this.maxBatch,
      this.o.sink.limits.maxBytes,
      this.o.sink.sizeOf?.bind(this.o.sink),
    ) as SinkRecord[][]) {
      try {
        await sendBatch(this.o, { ...this.ctx, now: this.o.now() }, b, this.sum, settled);
      } finally {
        await this.record(settled.splice(0).map((u) => repairUpdate(u, kind)));
      }
    }
    this.left[kind] += this.sum.rejected - before;
  }

  private async flushRemovals(): Promise<void> {
    const batch = this.removals;
    this.removals = [];
    if (batch.length === 0) return;
    await retrying(
      this.o,
      () => this.rec.removeExtra(batch, { ...this.ctx, now: this.o.now() }, this.schedule),
      'reconcile_remove',
    );
    this.sum.removed += batch.length;
    this.o.metrics?.sinkRemoved.inc({ sink: this.o.id, reason: 'reconcile' }, batch.length);
    await this.record(await removalUpdates(batch, this.o));
  }

  /** The delivery ledger's rows of what this repair settled (no cursor: a repair is no change-log position). */
  private async record(updates: LedgerUpdate[]): Promise<void> {
    if (updates.length) await this.o.store.commitDeliveries?.(this.o.id, updates, undefined, this.o.now());
  }

  summary() {
    return {
      upserted: this.sum.upserted,
      removed: this.sum.removed,
      rejected: this.sum.rejected,
      retried: this.sum.retried,
      gone: this.gone,
    };
  }
}
