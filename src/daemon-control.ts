import { join } from 'node:path';
import type { IntegrationDefinition } from './config/registry.js';
import type { LoadedConfig } from './config/load.js';
import type { Scheduler } from './pipeline/scheduler.js';
import type { SourceComponent } from './pipeline/components.js';
import type { SinkComponent } from './delivery/component.js';
import type { SinkRunSummary } from './delivery/runner.js';
import type { Allowlist } from './filter/ingest-allowlist.js';
import { isStixgateError } from './core/errors.js';
import type { AdminControl } from './server/admin-types.js';
import { createAdminControl, type PauseBook } from './daemon-admin.js';
import { documentTypes, ingestDocument } from './daemon-ingest.js';
import type { JobHost } from './daemon-jobs.js';
import { runSinkJob, runSourceJob, sinkRun } from './daemon-runs.js';
import { reconcileInSlot, reconcileRun } from './daemon-reconcile.js';

/** The daemon state the admin API reads and acts on (closures over the running daemon). */
export interface ControlHost {
  jobHost: JobHost;
  scheduler(): Scheduler | undefined;
  components(): ReadonlyMap<string, SourceComponent>;
  sinks(): ReadonlyMap<string, SinkComponent>;
  allowlist(): Allowlist;
  loaded(): LoadedConfig;
  registry: readonly IntegrationDefinition[];
  pauses: PauseBook;
  lastSummary: Map<string, Record<string, unknown>>;
  reloadOutcome(): Promise<{ ok: boolean; message: string }>;
}

/** A component the admin API named; the API answers 404 for an unknown id before it gets here. */
function known<T>(map: ReadonlyMap<string, T>, id: string, what: string): T {
  const c = map.get(id);
  if (c === undefined) throw new Error(`admin API: no ${what} "${id}" in the running configuration`);
  return c;
}

function started(scheduler: Scheduler | undefined): Scheduler {
  if (!scheduler) throw new Error('admin API: the daemon is not started');
  return scheduler;
}

/** The admin API's view of the daemon (src/daemon-admin.ts), with runs in the scheduler's slots and leases. */
export function daemonControl(d: ControlHost, dataDir: string): AdminControl {
  const h = d.jobHost;
  return createAdminControl({
    scheduler: d.scheduler,
    sources: d.components,
    sinks: d.sinks,
    store: h.store,
    metrics: h.metrics,
    pauses: d.pauses,
    lastSummary: d.lastSummary,
    runSource: (id, onRun) => {
      const comp = known(d.components(), id, 'source');
      const allowlist = d.allowlist();
      return started(d.scheduler()).runNow(id, (signal) =>
        h.withLease(`source:${id}`, signal, (s2) => {
          onRun();
          return runSourceJob(h, comp, s2, allowlist);
        }),
      );
    },
    push: async (id, full) => {
      const comp = known(d.sinks(), id, 'sink');
      let sum: SinkRunSummary | undefined;
      await started(d.scheduler()).runNow(`sink:${id}`, (signal) =>
        h.withLease(`sink:${id}`, signal, async (s2) => {
          sum = await runSinkJob(h, comp, s2, full);
        }),
      );
      return sum;
    },
    reconcile: (id, apply, limit) => {
      const comp = known(d.sinks(), id, 'sink');
      const o = { apply, limit, tmpDir: join(dataDir, 'tmp') };
      return apply ? reconcileInSlot(h, comp, o) : reconcileRun(h, comp, new AbortController().signal, o);
    },
    dryRun: (id, full) =>
      sinkRun(h, known(d.sinks(), id, 'sink'), new AbortController().signal, { full, dryRun: true }),
    reload: () => d.reloadOutcome(),
    ingestTypes: () => documentTypes(d.registry),
    ingest: (doc, r) =>
      ingestDocument(doc, r, {
        registry: d.registry,
        loaded: d.loaded(),
        dataDir,
        store: h.store(),
        allowlist: d.allowlist(),
        metrics: h.metrics,
        logger: h.logger,
        now: h.now,
      }),
    log: (err, job) =>
      h.logger.error(
        { job, code: isStixgateError(err) ? err.code : undefined },
        `admin run: ${err instanceof Error ? err.message : String(err)}`,
      ),
  });
}
