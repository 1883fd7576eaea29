import type { DaemonJob, JobHost } from './daemon-jobs.js';
import type { Store } from './store/contract.js';
import { sinkCursorName } from './delivery/runner.js';
import { retentionCutoffs, type PurgeResult, type RetentionConfig } from './store/retention.js';

/** Objects deleted per store call (one search and one bulk request on OpenSearch, one transaction embedded). */
const PURGE_PAGE = 1000;

export interface RetentionFloor {
  /** Retention may delete objects whose last change is at or below this. */
  floor: number;
  head: number;
  /** The sink whose cursor sets the floor (undefined: no sink is behind the head). */
  sink?: string;
}

/**
 * The highest change-log position every configured sink has passed. A sink that has a cursor
 * counts, enabled or not (a disabled sink still holds what it was sent, and resumes from its
 * cursor). An enabled sink with no cursor yet holds everything back until its first commit; a
 * disabled one with no cursor was never sent anything and does not count.
 */
export async function retentionFloor(
  store: Store,
  sinks: Record<string, { enabled: boolean }>,
): Promise<RetentionFloor> {
  const head = await store.head();
  const out: RetentionFloor = { floor: head, head };
  for (const [id, c] of Object.entries(sinks).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const raw = await store.getCursor(sinkCursorName(id));
    if (raw === undefined && !c.enabled) continue;
    const cursor = raw === undefined ? 0 : Number(raw);
    if (Number.isFinite(cursor) && cursor < out.floor) {
      out.floor = cursor;
      out.sink = id;
    }
  }
  return out;
}

/**
 * Deletes every ended object due under `cfg` at `now` below the sinks' floor, page by page, until a
 * page deletes nothing or `signal` aborts. Stores without `purge` keep everything.
 */
export async function applyRetention(
  store: Store,
  cfg: RetentionConfig,
  sinks: Record<string, { enabled: boolean }>,
  now: number,
  signal?: AbortSignal,
): Promise<PurgeResult & RetentionFloor> {
  const at = await retentionFloor(store, sinks);
  const total: PurgeResult & RetentionFloor = { expired: 0, revoked: 0, ledgerRows: 0, purgedThrough: 0, ...at };
  const cut = retentionCutoffs(cfg, now);
  if (!store.purge || (cut.expiredBefore === undefined && cut.revokedBefore === undefined)) return total;
  while (!signal?.aborted) {
    const r = await store.purge({ ...cut, maxSeq: at.floor, limit: PURGE_PAGE });
    total.expired += r.expired;
    total.revoked += r.revoked;
    total.ledgerRows += r.ledgerRows;
    total.purgedThrough = Math.max(total.purgedThrough, r.purgedThrough);
    if (r.expired + r.revoked === 0) break;
  }
  return total;
}

/** What the retention job needs of the daemon (a JobHost has it). */
export type RetentionHost = Pick<JobHost, 'store' | 'now' | 'metrics' | 'logger' | 'lastSummary' | 'withLease'> & {
  loaded(): { config: { store: { retention: RetentionConfig }; sinks: Record<string, { enabled: boolean }> } };
};

/** The retention job: on one instance at a time (the `retention` lease), every `store.retention.interval_mins`. */
export function retentionJob(host: RetentionHost): DaemonJob {
  const cfg = host.loaded().config.store.retention;
  return {
    id: 'retention',
    spec: { intervalMs: cfg.interval_mins * 60_000, runOnStart: false },
    run: (signal) =>
      host.withLease('retention', signal, async (s2) => {
        const r = await applyRetention(host.store(), cfg, host.loaded().config.sinks, host.now(), s2);
        host.metrics.retentionHeldBack.set(r.head - r.floor);
        if (r.expired) host.metrics.retentionDeleted.inc({ state: 'expired' }, r.expired);
        if (r.revoked) host.metrics.retentionDeleted.inc({ state: 'revoked' }, r.revoked);
        if (r.expired || r.revoked || r.sink)
          host.logger.info(
            {
              expired: r.expired,
              revoked: r.revoked,
              ledgerRows: r.ledgerRows,
              ...(r.sink ? { heldBackBySink: r.sink, sinkCursor: r.floor, head: r.head } : {}),
            },
            'retention: ended objects deleted',
          );
        host.lastSummary.set('retention', { expired: r.expired, revoked: r.revoked, ledgerRows: r.ledgerRows });
        host.metrics.lastSuccess.set({ job_name: 'retention' }, host.now() / 1000);
      }),
  };
}
