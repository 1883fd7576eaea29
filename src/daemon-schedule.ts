import { join } from 'node:path';
import type { JobSpec, RunFn, Scheduler } from './pipeline/scheduler.js';
import { createSourceComponent, type SourceComponent } from './pipeline/components.js';
import { createSinkComponent, type SinkComponent } from './delivery/component.js';
import { Allowlist } from './filter/ingest-allowlist.js';
import type { EnrichCache } from './enrich/records.js';
import { MAPPINGS_DIR } from './paths.js';
import { enricherJobs, expireJob, type JobHost, rescoreJob, warninglistJob } from './daemon-jobs.js';
import { runSinkJob, runSourceJob } from './daemon-runs.js';
import { reconcileJob } from './daemon-reconcile.js';
import { retentionJob } from './daemon-retention.js';

/** The components and jobs of one configuration, as `scheduleAll` adds them to a scheduler. */
export interface Scheduled {
  components: Map<string, SourceComponent>;
  sinks: Map<string, SinkComponent>;
  /** The ingest allowlist the source jobs of this configuration apply. */
  allowlist: Allowlist;
  jobIds: string[];
}

/**
 * Creates the enabled sources and sinks of the loaded configuration and adds one job per source,
 * per sink (and its reconcile schedule), the warninglist, rescore, enricher, expiry and retention jobs.
 */
export function scheduleAll(
  host: JobHost,
  scheduler: Scheduler,
  o: {
    dataDir: string;
    enrichCaches: Map<string, EnrichCache>;
    onEnrichHttp: (http: { close(): Promise<void> }) => void;
  },
): Scheduled {
  const jobIds: string[] = [];
  const addJob = (id: string, spec: JobSpec, run: RunFn): void => {
    jobIds.push(id);
    scheduler.add(id, spec, run);
  };
  const loaded = host.loaded();
  const config = loaded.config;
  const allowlist = new Allowlist(config.allowlist);
  for (const bad of allowlist.invalid) host.logger.warn({ entry: bad }, 'allowlist entry ignored');
  const components = new Map<string, SourceComponent>();
  for (const [id, c] of Object.entries(config.sources)) {
    if (!c.enabled) continue;
    const comp = createSourceComponent(id, c, {
      registry: host.registry,
      logger: host.logger,
      metrics: host.metrics,
      configDir: loaded.dir,
      mappingsDir: MAPPINGS_DIR,
    });
    components.set(id, comp);
    addJob(
      id,
      {
        schedule: c.schedule,
        intervalMs: c.schedule ? undefined : (c.interval_secs ?? 3600) * 1000,
        timezone: c.timezone,
        runOnStart: c.run_on_start,
        timeoutMs: 6 * 3600_000,
      },
      (signal) => host.withLease(`source:${id}`, signal, (s2) => runSourceJob(host, comp, s2, allowlist)),
    );
  }
  const sinks = new Map<string, SinkComponent>();
  for (const [id, c] of Object.entries(config.sinks)) {
    if (!c.enabled) continue;
    const comp = createSinkComponent(id, c, {
      registry: host.registry,
      logger: host.logger,
      configDir: loaded.dir,
      mappingsDir: MAPPINGS_DIR,
      dataDir: o.dataDir,
    });
    sinks.set(id, comp);
    addJob(
      `sink:${id}`,
      {
        schedule: c.schedule,
        intervalMs: c.schedule ? undefined : (c.interval_secs ?? 30) * 1000,
        timezone: c.timezone,
        runOnStart: true,
        timeoutMs: 6 * 3600_000,
      },
      (signal) => host.withLease(`sink:${id}`, signal, async (s2) => void (await runSinkJob(host, comp, s2))),
    );
    const rj = reconcileJob(host, comp, join(o.dataDir, 'tmp'));
    if (rj) addJob(rj.id, rj.spec, rj.run);
  }
  const own = [
    warninglistJob(host),
    rescoreJob(host),
    ...enricherJobs(host, o.enrichCaches, o.onEnrichHttp),
    expireJob(host),
    retentionJob(host),
  ];
  for (const j of own) if (j) addJob(j.id, j.spec, j.run);
  host.metrics.initComponents({
    jobs: jobIds,
    sources: [...components.keys()],
    sinks: [...sinks.keys()],
    enrichers: jobIds.filter((j) => j.startsWith('enrich:')).map((j) => j.slice(7)),
  });
  return { components, sinks, allowlist, jobIds };
}
