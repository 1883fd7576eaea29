import type { SourceComponent } from './pipeline/components.js';
import { runSource } from './pipeline/runner.js';
import { runSinkComponent, type SinkComponent } from './delivery/component.js';
import type { SinkRunSummary } from './delivery/runner.js';
import type { Allowlist } from './filter/ingest-allowlist.js';
import { isStixgateError } from './core/errors.js';
import type { JobHost } from './daemon-jobs.js';

/** One scheduled or admin-requested run of a source: counted, timed, summarised, then the correlation index catches up. */
export async function runSourceJob(
  host: JobHost,
  comp: SourceComponent,
  signal: AbortSignal,
  allowlist: Allowlist,
): Promise<void> {
  const config = host.loaded().config;
  const end = host.metrics.runDuration.startTimer({ job_name: comp.id });
  host.activeSourceRuns.count++;
  try {
    const sum = await runSource({
      id: comp.id,
      source: comp.source,
      config: comp.config,
      store: host.store(),
      http: comp.http,
      logger: comp.logger,
      metrics: host.metrics,
      allowlist,
      allowRed: config.allow_red,
      defaultTlp: config.default_tlp,
      signal,
      now: host.now,
    });
    if (signal.aborted) {
      host.metrics.runs.inc({ job_name: comp.id, outcome: 'aborted' });
      return;
    }
    host.metrics.runs.inc({ job_name: comp.id, outcome: 'success' });
    host.metrics.lastSuccess.set({ job_name: comp.id }, host.now() / 1000);
    void host
      .correlator()
      ?.catchUp(host.store(), { pageSize: host.loaded().config.correlation.page_size })
      .catch(() => undefined);
    const { samples, ...counts } = sum;
    host.lastSummary.set(comp.id, counts);
    comp.logger.info(counts, 'run finished');
    for (const r of samples.slice(0, 5)) comp.logger.warn({ reason: r.reason, location: r.location }, r.message);
  } catch (e) {
    host.metrics.runs.inc({ job_name: comp.id, outcome: 'error' });
    throw e;
  } finally {
    host.activeSourceRuns.count--;
    end();
  }
}

/** One run of a sink's job (`full`: re-send everything): counted, timed, summarised; refused credentials pause it with an alert. */
export async function runSinkJob(
  host: JobHost,
  comp: SinkComponent,
  signal: AbortSignal,
  full = false,
): Promise<SinkRunSummary> {
  const job = `sink:${comp.id}`;
  const end = host.metrics.runDuration.startTimer({ job_name: job });
  try {
    const sum = await sinkRun(host, comp, signal, { full });
    const { planned: _planned, ...counts } = sum;
    host.lastSummary.set(job, counts);
    host.metrics.runs.inc({ job_name: job, outcome: signal.aborted ? 'aborted' : 'success' });
    if (!signal.aborted) host.metrics.lastSuccess.set({ job_name: job }, host.now() / 1000);
    if (sum.changes) comp.logger.info({ ...sum, planned: undefined }, 'push finished');
    return sum;
  } catch (e) {
    host.metrics.runs.inc({ job_name: job, outcome: 'error' });
    if (isStixgateError(e) && e.code === 'STIXGATE_ERR_SINK_AUTH')
      comp.logger.error({ alert: 'sink_paused' }, `sink paused until its credentials are accepted: ${e.message}`);
    throw e;
  } finally {
    end();
  }
}

/** One run of a sink with the daemon's store, metrics, view and publish filter (`dryRun` sends and commits nothing). */
export function sinkRun(
  host: JobHost,
  comp: SinkComponent,
  signal: AbortSignal,
  o: { full?: boolean; dryRun?: boolean },
): Promise<SinkRunSummary> {
  const publish = host.publish();
  return runSinkComponent(comp, {
    store: host.store(),
    metrics: o.dryRun ? undefined : host.metrics,
    signal,
    now: host.now,
    access: host.access(),
    publish: publish && ((x, s) => publish.check(x, s)),
    publishVersion: publish?.fingerprint,
    ...o,
  });
}
