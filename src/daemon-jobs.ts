import type { Logger } from './telemetry/logger.js';
import type { Metrics } from './telemetry/metrics.js';
import type { LoadedConfig } from './config/load.js';
import type { IntegrationDefinition } from './config/registry.js';
import type { Store } from './store/contract.js';
import type { JobSpec, RunFn, Scheduler, SchedulerOptions } from './pipeline/scheduler.js';
import type { PublishFilter } from './filter/policy.js';
import { reloadWarninglists } from './filter/setup.js';
import { createHttpClient } from './http/client.js';
import type { Scoring } from './score/model.js';
import type { AccessPolicy } from './access/policy.js';
import { rescoreStore } from './store/rescore.js';
import { enricherHttpPolicy, enricherRunSettings } from './enrich/schema.js';
import { EnrichCache } from './enrich/records.js';
import { runEnricher } from './enrich/runner.js';
import type { EnricherDefinition } from './enrich/types.js';
import type { EdlLists } from './edl/index.js';
import type { CorrelationIndex } from './correlate/index.js';
import { isStixgateError, errorMessage } from './core/errors.js';
import { MAPPINGS_DIR } from './paths.js';
import { resolvedWarninglists, warninglistHttp } from './daemon-publish.js';

/** What the daemon's own jobs need of it (src/daemon.ts hands closures over its current state). */
export interface JobHost {
  loaded(): LoadedConfig;
  store(): Store;
  scoring(): Scoring;
  access(): AccessPolicy;
  publish(): PublishFilter | undefined;
  edl(): EdlLists | undefined;
  scheduler(): Scheduler | undefined;
  registry: readonly IntegrationDefinition[];
  metrics: Metrics;
  logger: Logger;
  now: () => number;
  /** Runs a job only while this instance holds its lease in the store. */
  withLease(name: string, signal: AbortSignal, job: (signal: AbortSignal) => Promise<void>): Promise<void>;
  correlator(): CorrelationIndex | undefined;
  /** Counts of each job's last finished run (the admin API shows them). */
  lastSummary: Map<string, Record<string, unknown>>;
  /** Source runs in progress (the correlation index follows slowly meanwhile). */
  activeSourceRuns: { count: number };
}

/** A job to add to the scheduler. */
export interface DaemonJob {
  id: string;
  spec: JobSpec;
  run: RunFn;
}

/** The scheduler's failure and overlap reports: counted by reason, logged, and a Retry-After defers the job. */
export function schedulerHooks(host: JobHost): SchedulerOptions {
  return {
    onError: (id: string, err: unknown) => {
      const reason = isStixgateError(err) ? err.reason : 'internal';
      host.metrics.runErrors.inc({ job_name: id, reason });
      if (isStixgateError(err) && err.code.startsWith('STIXGATE_ERR_STORE_'))
        host.metrics.storeErrors.inc({ code: err.code.replace(/^STIXGATE_ERR_/, '').toLowerCase() });
      if (isStixgateError(err) && err.retryAfterMs !== undefined)
        host.scheduler()?.deferUntil(id, host.now() + err.retryAfterMs);
      host.logger.error({ job: id, code: isStixgateError(err) ? err.code : undefined, reason }, errorMessage(err));
    },
    onOverlap: (id: string) => {
      host.metrics.runOverlaps.inc({ job_name: id });
      host.logger.warn({ job: id }, 'previous run still going; tick skipped');
    },
  };
}

/** The warninglist refresh, when lists are configured: a reload that loads nothing keeps the previous lists. */
export function warninglistJob(host: JobHost): DaemonJob | undefined {
  const wl = host.loaded().config.warninglists;
  if (!wl.enabled || !(wl.paths.length || wl.urls.length)) return undefined;
  return {
    id: 'warninglists',
    spec: { intervalMs: wl.refresh_hours * 3600_000 },
    run: async (signal) => {
      const publish = host.publish();
      if (!publish) return;
      const http = warninglistHttp(host.logger);
      try {
        const r = await reloadWarninglists(publish, resolvedWarninglists(host.loaded()), http, signal);
        for (const p of r.problems) host.logger.warn({ list: p.origin, path: p.path }, p.message);
        if (!r.swapped) host.logger.warn('warninglist reload loaded nothing; keeping the previous lists');
        else {
          host.metrics.lastSuccess.set({ job_name: 'warninglists' }, host.now() / 1000);
          // the lists judged every value against the previous warninglists
          await host.edl()?.rebuild();
        }
      } finally {
        await http.close();
      }
    },
  };
}

/** The score decay over the whole store. */
export function rescoreJob(host: JobHost): DaemonJob {
  const sc = host.loaded().config.scoring;
  return {
    id: 'rescore',
    spec: { intervalMs: sc.rescore_interval_secs * 1000, runOnStart: false },
    run: (signal) =>
      host.withLease('rescore', signal, async (s2) => {
        // the model the store merges with (compiled from the same start-up configuration)
        const r = await rescoreStore(host.store(), host.scoring(), host.now(), {
          pageSize: sc.rescore_page_size,
          signal: s2,
        });
        if (r.updated) host.metrics.rescored.inc({ outcome: 'updated' }, r.updated);
        if (r.expired) host.metrics.rescored.inc({ outcome: 'expired' }, r.expired);
        host.logger.info(r, 'scores decayed');
        host.metrics.lastSuccess.set({ job_name: 'rescore' }, host.now() / 1000);
      }),
  };
}

/** The expiry of indicators past their valid_until. */
export function expireJob(host: JobHost): DaemonJob {
  return {
    id: 'expire',
    spec: { intervalMs: host.loaded().config.expire_interval_secs * 1000, runOnStart: true },
    run: (signal) =>
      host.withLease('expire', signal, async () => {
        const n = await host.store().expire(host.now());
        if (n) {
          host.metrics.expired.inc(n);
          host.logger.info({ expired: n }, 'indicators expired');
        }
        host.metrics.lastSuccess.set({ job_name: 'expire' }, host.now() / 1000);
      }),
  };
}

/**
 * One job per enabled enricher of a registered type. Caches outlive a reload (`caches` is the
 * daemon's); each enricher's HTTP client is handed to `keepHttp` so the daemon closes it.
 */
export function enricherJobs(
  host: JobHost,
  caches: Map<string, EnrichCache>,
  keepHttp: (http: { close(): Promise<void> }) => void,
): DaemonJob[] {
  const loaded = host.loaded();
  const jobs: DaemonJob[] = [];
  for (const [id, raw] of Object.entries(loaded.config.enrichers)) {
    if (!raw.enabled) continue;
    const def = host.registry.find((d) => d.kind === 'enricher' && d.type === raw.type) as
      | EnricherDefinition
      | undefined;
    if (!def) continue;
    const logger = host.logger.child({ enricher: id, type: raw.type });
    const http = createHttpClient(enricherHttpPolicy(raw, loaded.dir), { component: `enrich:${id}`, logger });
    keepHttp(http);
    const enricher = def.create(raw, { logger, configDir: loaded.dir, mappingsDir: MAPPINGS_DIR });
    let cache = caches.get(id);
    if (!cache) {
      cache = new EnrichCache(raw.cache_size);
      caches.set(id, cache);
    }
    const hooks = host.metrics.enricherHooks(id);
    const job = `enrich:${id}`;
    jobs.push({
      id: job,
      spec: { intervalMs: raw.interval_secs * 1000, runOnStart: raw.run_on_start },
      run: (signal) =>
        host.withLease(job, signal, async (s2) => {
          const sum = await runEnricher({
            id,
            enricher,
            store: host.store(),
            http,
            logger,
            metrics: hooks,
            now: host.now,
            signal: s2,
            cache,
            access: host.access(),
            ...enricherRunSettings(def, raw),
          });
          host.metrics.runs.inc({ job_name: job, outcome: sum.error ? 'error' : 'success' });
          if (sum.retryAfterMs) host.scheduler()?.deferUntil(job, host.now() + sum.retryAfterMs);
          if (sum.error) logger.error({ stopped: sum.stopped }, `enrichment stopped: ${sum.error}`);
          else host.metrics.lastSuccess.set({ job_name: job }, host.now() / 1000);
        }),
    });
  }
  return jobs;
}
