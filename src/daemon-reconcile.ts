import { isStixgateError } from './core/errors.js';
import type { SinkComponent } from './delivery/component.js';
import type { ReconcileResult } from './delivery/reconcile.js';
import { reconcileSinkComponent } from './delivery/reconcile-component.js';
import type { DaemonJob, JobHost } from './daemon-jobs.js';

/** Default period of a configured `reconcile:` without a schedule. */
const DEFAULT_RECONCILE_SECS = 86_400;

/** A reconcile of a sink with the daemon's store, metrics, view and publish filter (`apply`: repair). */
export function reconcileRun(
  host: JobHost,
  comp: SinkComponent,
  signal: AbortSignal,
  o: { apply: boolean; limit: number; tmpDir: string },
): Promise<ReconcileResult> {
  const publish = host.publish();
  return reconcileSinkComponent(comp, {
    store: host.store(),
    metrics: host.metrics,
    signal,
    now: host.now,
    access: host.access(),
    publish: publish && ((x, s) => publish.check(x, s)),
    apply: o.apply,
    listLimit: o.limit,
    tmpDir: o.tmpDir,
  });
}

/** An applied reconcile in the sink job's own slot and under its lease, so it never overlaps a push of the sink; undefined when the lease is held elsewhere. */
export async function reconcileInSlot(
  host: JobHost,
  comp: SinkComponent,
  o: { apply: boolean; limit: number; tmpDir: string },
): Promise<ReconcileResult | undefined> {
  const job = `sink:${comp.id}`;
  let result: ReconcileResult | undefined;
  const scheduler = host.scheduler();
  if (!scheduler) throw new Error('reconcile: the daemon is not started');
  await scheduler.runNow(job, (signal) =>
    host.withLease(job, signal, async (s2) => {
      result = await reconcileRun(host, comp, s2, o);
    }),
  );
  return result;
}

/** The counts of a result, as the admin API's last_summary shows them. */
export function reconcileSummary(r: ReconcileResult): Record<string, unknown> {
  return {
    applied: r.applied,
    read: r.read,
    expected: r.expected,
    ...r.counts,
    ...(r.repaired ? { repaired: r.repaired } : {}),
  };
}

/**
 * The scheduled reconcile of a sink (`reconcile:` in its configuration), job `reconcile:<id>`. It
 * runs in the sink job's slot: a push in progress skips the tick (counted as an overlap), and a
 * paused sink is not reconciled.
 */
export function reconcileJob(host: JobHost, comp: SinkComponent, tmpDir: string): DaemonJob | undefined {
  const r = comp.config.reconcile;
  if (!r) return undefined;
  const id = `reconcile:${comp.id}`;
  return {
    id,
    spec: {
      schedule: r.schedule,
      intervalMs: r.schedule ? undefined : (r.interval_secs ?? DEFAULT_RECONCILE_SECS) * 1000,
      timezone: comp.config.timezone,
      runOnStart: false,
      timeoutMs: 6 * 3600_000,
    },
    run: async () => {
      const scheduler = host.scheduler();
      if (!scheduler || scheduler.status(`sink:${comp.id}`).paused) return;
      const end = host.metrics.runDuration.startTimer({ job_name: id });
      try {
        const res = await reconcileInSlot(host, comp, { apply: r.apply, limit: 20, tmpDir });
        if (!res) return;
        host.lastSummary.set(id, reconcileSummary(res));
        host.metrics.runs.inc({ job_name: id, outcome: 'success' });
        host.metrics.lastSuccess.set({ job_name: id }, host.now() / 1000);
        const drift = res.counts.missing + res.counts.stale + res.counts.extra;
        if (drift)
          comp.logger.warn(
            { ...res.counts, repaired: res.repaired },
            `reconcile found ${drift} entries drifted${r.apply ? '' : ' (not repaired: apply is false)'}`,
          );
      } catch (e) {
        if (isStixgateError(e) && e.code === 'STIXGATE_ERR_JOB_RUNNING') {
          host.metrics.runOverlaps.inc({ job_name: id });
          comp.logger.info('a push of the sink is in progress; reconcile skipped this tick');
          return;
        }
        host.metrics.runs.inc({ job_name: id, outcome: 'error' });
        throw e;
      } finally {
        end();
      }
    },
  };
}
