import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';

/**
 * The metric catalogue, the one place metric names are declared (docs/metrics.md is generated
 * from it by `stixgate metrics-reference`). Names follow the Prometheus naming guide:
 * `stixgate_<area>_<noun>_<unit>`, `_total` on counters only; the process and Node.js metrics keep
 * their standard names (`process_*`, `nodejs_*`). Labels are bounded: component ids come from
 * configuration, reasons and outcomes from closed sets; never an indicator value or a key.
 * Every per-source, per-sink and per-job series exists from start-up (`initComponents`), so an
 * alert on a component that never succeeded has a series to fire on.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly recordsReceived = new Counter({
    name: 'stixgate_source_records_received_total',
    help: 'Raw records read from a source',
    labelNames: ['source'],
    registers: [this.registry],
  });
  readonly recordsMapped = new Counter({
    name: 'stixgate_source_objects_mapped_total',
    help: 'STIX objects produced by mapping',
    labelNames: ['source'],
    registers: [this.registry],
  });
  readonly recordsRejected = new Counter({
    name: 'stixgate_source_records_rejected_total',
    help: 'Records rejected, by reason',
    labelNames: ['source', 'reason'],
    registers: [this.registry],
  });
  readonly recordsFiltered = new Counter({
    name: 'stixgate_source_records_filtered_total',
    help: 'Objects dropped by a filter (allowlist, TLP policy)',
    labelNames: ['source', 'filter'],
    registers: [this.registry],
  });
  readonly markingsUnreadable = new Counter({
    name: 'stixgate_source_markings_unreadable_total',
    help: 'Objects whose marking could not be read (their contribution is treated as TLP:RED)',
    labelNames: ['source'],
    registers: [this.registry],
  });
  readonly objectsStored = new Counter({
    name: 'stixgate_store_objects_written_total',
    help: 'Objects offered to the store, by outcome',
    labelNames: ['source', 'outcome'],
    registers: [this.registry],
  });
  readonly runs = new Counter({
    name: 'stixgate_job_runs_total',
    help: 'Job runs by outcome',
    labelNames: ['job_name', 'outcome'],
    registers: [this.registry],
  });
  readonly runErrors = new Counter({
    name: 'stixgate_job_errors_total',
    help: 'Job errors by reason',
    labelNames: ['job_name', 'reason'],
    registers: [this.registry],
  });
  readonly runOverlaps = new Counter({
    name: 'stixgate_job_overlap_skipped_total',
    help: 'Scheduled ticks skipped because the previous run was still going',
    labelNames: ['job_name'],
    registers: [this.registry],
  });
  readonly runDuration = new Histogram({
    name: 'stixgate_job_run_duration_seconds',
    help: 'Duration of job runs',
    labelNames: ['job_name'],
    buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
    registers: [this.registry],
  });
  readonly lastSuccess = new Gauge({
    name: 'stixgate_job_last_success_timestamp_seconds',
    help: 'Unix time of the last successful run of each job (sources, sink:<id>, enrich:<id>, expire, retention, rescore, warninglists); 0 until the first',
    labelNames: ['job_name'],
    registers: [this.registry],
  });
  readonly jobPaused = new Gauge({
    name: 'stixgate_job_paused',
    help: '1 while the job is paused through the admin API (its scheduled runs are skipped), else 0',
    labelNames: ['job_name'],
    registers: [this.registry],
  });
  readonly cursorCommitted = new Gauge({
    name: 'stixgate_job_cursor_committed_timestamp_seconds',
    help: 'Unix time the cursor was last committed (cursor age = now - this)',
    labelNames: ['job_name'],
    registers: [this.registry],
  });
  readonly httpRetries = new Counter({
    name: 'stixgate_http_retries_total',
    help: 'HTTP requests retried',
    labelNames: ['component', 'reason'],
    registers: [this.registry],
  });
  readonly storeObjects = new Gauge({
    name: 'stixgate_store_objects',
    help: 'Objects held by the store, by STIX type',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly storeChangeHead = new Gauge({
    name: 'stixgate_store_changelog_head',
    help: 'Sequence number of the newest change-log entry',
    registers: [this.registry],
  });
  readonly expired = new Counter({
    name: 'stixgate_store_expired_total',
    help: 'Objects expired by valid_until',
    registers: [this.registry],
  });
  readonly retentionDeleted = new Counter({
    name: 'stixgate_store_retention_deleted_total',
    help: 'Ended objects deleted by retention (store.retention), by state (expired, revoked)',
    labelNames: ['state'],
    registers: [this.registry],
  });
  readonly retentionHeldBack = new Gauge({
    name: 'stixgate_store_retention_held_back',
    help: 'Change-log positions between the head and the slowest sink cursor, which retention may not delete past (0: no sink behind)',
    registers: [this.registry],
  });
  readonly lookupDuration = new Histogram({
    name: 'stixgate_lookup_duration_seconds',
    help: 'Lookup API request latency',
    labelNames: ['kind'],
    buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });
  readonly lookupValues = new Counter({
    name: 'stixgate_lookup_values_total',
    help: 'Values looked up, by result (hit ratio = hit / (hit + miss))',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly indexEntries = new Gauge({
    name: 'stixgate_lookup_index_entries',
    help: 'Values held by the in-memory lookup index (embedded lookups only: with remote lookups on the OpenSearch store no per-indicator index is held and this has no series; see stixgate_lookup_filter_values)',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly filterAnswers = new Counter({
    name: 'stixgate_lookup_filter_answers_total',
    help: "Remote lookups (OpenSearch store): values by the negative filter's answer (miss: answered without a store round trip; passed: some candidate may be listed, read from the cache or the store; unfiltered: no filter yet, still building)",
    labelNames: ['answer'],
    registers: [this.registry],
  });
  readonly lookupStoreRequests = new Counter({
    name: 'stixgate_lookup_store_requests_total',
    help: 'Remote lookups: requests (round trips) to the store for candidate indicators, by outcome (ok, error)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly lookupStoreDuration = new Histogram({
    name: 'stixgate_lookup_store_request_duration_seconds',
    help: 'Remote lookups: latency of a candidate request to the store (one round trip, shared by the lookups it carries)',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2],
    registers: [this.registry],
  });
  readonly lookupCache = new Counter({
    name: 'stixgate_lookup_cache_requests_total',
    help: 'Remote lookups: candidate values asked of the hot cache, by result (hit, miss)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly lookupCacheEntries = new Gauge({
    name: 'stixgate_lookup_cache_entries',
    help: 'Remote lookups: values held by the hot cache',
    registers: [this.registry],
  });
  readonly lookupCacheBytes = new Gauge({
    name: 'stixgate_lookup_cache_bytes',
    help: 'Remote lookups: bytes the hot cache accounts for (bounded by lookup.remote.cache_mb)',
    registers: [this.registry],
  });
  readonly filterValues = new Gauge({
    name: 'stixgate_lookup_filter_values',
    help: 'Remote lookups: distinct values added to the negative filter (its fill; compare with stixgate_lookup_filter_capacity)',
    registers: [this.registry],
  });
  readonly filterCapacity = new Gauge({
    name: 'stixgate_lookup_filter_capacity',
    help: 'Remote lookups: values the negative filter is sized for (lookup.remote.filter_capacity)',
    registers: [this.registry],
  });
  readonly filterFpRate = new Gauge({
    name: 'stixgate_lookup_filter_false_positive_ratio',
    help: 'Remote lookups: estimated false-positive rate of the negative filter at its current fill, (1 - e^(-kn/m))^k',
    registers: [this.registry],
  });
  readonly filterStale = new Gauge({
    name: 'stixgate_lookup_filter_stale_values',
    help: 'Remote lookups: values of revoked or expired indicators still in the negative filter (each costs a round trip when looked up) since it was built',
    registers: [this.registry],
  });
  readonly filterRebuilds = new Counter({
    name: 'stixgate_lookup_filter_rebuilds_total',
    help: 'Remote lookups: background rebuilds of the negative filter from the store, by reason (stale, over_capacity)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly apiRefused = new Counter({
    name: 'stixgate_api_refused_total',
    help: 'API requests answered with an error, by error code (STIXGATE_ERR_API_… without the prefix, lower case)',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly taxiiServed = new Counter({
    name: 'stixgate_taxii_objects_served_total',
    help: 'Objects (or manifest entries) served by the TAXII server, by collection and endpoint',
    labelNames: ['collection', 'endpoint'],
    registers: [this.registry],
  });
  readonly taxiiReceived = new Counter({
    name: 'stixgate_taxii_objects_received_total',
    help: 'Objects posted to TAXII collections, by collection and outcome (success: stored or already stored; failure: refused, named in the status resource)',
    labelNames: ['collection', 'outcome'],
    registers: [this.registry],
  });
  readonly indexSeq = new Gauge({
    name: 'stixgate_lookup_index_seq',
    help: 'Change-log sequence the lookup index has applied',
    registers: [this.registry],
  });
  readonly sinkPushed = new Counter({
    name: 'stixgate_sink_pushed_total',
    help: 'Values the remote side acknowledged as added or updated',
    labelNames: ['sink'],
    registers: [this.registry],
  });
  readonly sinkRemoved = new Counter({
    name: 'stixgate_sink_removed_total',
    help: 'Values the remote side acknowledged as removed, by reason',
    labelNames: ['sink', 'reason'],
    registers: [this.registry],
  });
  readonly sinkRejected = new Counter({
    name: 'stixgate_sink_rejected_total',
    help: 'Values rejected permanently (written to the dead-letter file)',
    labelNames: ['sink'],
    registers: [this.registry],
  });
  readonly sinkDeadLetterRotations = new Counter({
    name: 'stixgate_sink_dead_letter_rotations_total',
    help: 'Dead-letter file rotations (the file reached its size cap)',
    labelNames: ['sink'],
    registers: [this.registry],
  });
  readonly sinkDeadLetterDropped = new Counter({
    name: 'stixgate_sink_dead_letter_dropped_bytes_total',
    help: 'Bytes of the oldest dead-letter file deleted by a rotation (beyond the files kept)',
    labelNames: ['sink'],
    registers: [this.registry],
  });
  readonly sinkRetried = new Counter({
    name: 'stixgate_sink_retried_total',
    help: 'Batches or values sent again, by reason',
    labelNames: ['sink', 'reason'],
    registers: [this.registry],
  });
  readonly sinkRefreshed = new Counter({
    name: 'stixgate_sink_refreshed_total',
    help: 'Still-valid values re-sent by the remote expiry refresh, so the remote side does not age them out',
    labelNames: ['sink'],
    registers: [this.registry],
  });
  readonly sinkLag = new Gauge({
    name: 'stixgate_sink_lag_changes',
    help: 'Change-log entries the sink has not delivered yet (head - cursor), read at every scrape, so it grows while the sink is paused or failing',
    labelNames: ['sink'],
    registers: [this.registry],
  });
  readonly sinkLastSuccess = new Gauge({
    name: 'stixgate_sink_last_success_timestamp_seconds',
    help: 'Unix time the sink last caught up with the change log; 0 until the first',
    labelNames: ['sink'],
    registers: [this.registry],
  });
  readonly sinkPaused = new Gauge({
    name: 'stixgate_sink_paused',
    help: '1 while the remote side refuses the credentials (401/403), else 0',
    labelNames: ['sink'],
    registers: [this.registry],
  });
  readonly sinkUnacked = new Gauge({
    name: 'stixgate_sink_unacked_batches',
    help: 'Batches sent but not yet acknowledged (HEC indexer acknowledgement)',
    labelNames: ['sink'],
    registers: [this.registry],
  });
  readonly sinkDrift = new Gauge({
    name: 'stixgate_sink_drift_items',
    help: "Entries the last reconcile or plan found different between the product and the sink's view of the store and left so (missing, stale, extra: after an applied reconcile, what it could not repair), and foreign entries it leaves alone (docs/reconcile.md)",
    labelNames: ['sink', 'kind'],
    registers: [this.registry],
  });
  readonly sinkLastReconcile = new Gauge({
    name: 'stixgate_sink_last_reconcile_timestamp_seconds',
    help: 'Unix time the last applied reconcile of the sink completed; 0 until the first',
    labelNames: ['sink'],
    registers: [this.registry],
  });
  readonly sinkBatchDuration = new Histogram({
    name: 'stixgate_sink_request_duration_seconds',
    help: 'Duration of sink batch requests',
    labelNames: ['sink', 'op'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
    registers: [this.registry],
  });
  readonly publishFiltered = new Counter({
    name: 'stixgate_publish_filtered_total',
    help: 'Values withheld from sinks by a warninglist or the publish allowlist, by list',
    labelNames: ['list'],
    registers: [this.registry],
  });
  readonly enrichRequests = new Counter({
    name: 'stixgate_enrich_requests_total',
    help: 'Requests made to an enrichment service',
    labelNames: ['enricher'],
    registers: [this.registry],
  });
  readonly enrichCacheHits = new Counter({
    name: 'stixgate_enrich_cache_hits_total',
    help: 'Values not looked up again because a lookup within the TTL exists',
    labelNames: ['enricher'],
    registers: [this.registry],
  });
  readonly enrichQuotaWaits = new Counter({
    name: 'stixgate_enrich_quota_waits_total',
    help: 'Times an enricher waited for or stopped at its quota',
    labelNames: ['enricher'],
    registers: [this.registry],
  });
  readonly enrichErrors = new Counter({
    name: 'stixgate_enrich_errors_total',
    help: 'Enrichment errors by reason',
    labelNames: ['enricher', 'reason'],
    registers: [this.registry],
  });
  readonly rescored = new Counter({
    name: 'stixgate_score_rescored_total',
    help: 'Indicators whose decayed score the re-score job wrote, by outcome (updated, expired)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly buildInfo = new Gauge({
    name: 'stixgate_build_info',
    help: 'Build information',
    labelNames: ['version', 'node'],
    registers: [this.registry],
  });

  readonly storeErrors = new Counter({
    name: 'stixgate_store_errors_total',
    help: 'Store operations that failed (jobs and /metrics statistics), by error code (STIXGATE_ERR_STORE_… without the prefix, lower case)',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly configReloads = new Counter({
    name: 'stixgate_config_reloads_total',
    help: 'Configuration reloads (SIGHUP, stixgate reload), by outcome (applied, refused)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  /** The job ids and components whose series exist (see initComponents). */
  private components: { jobs: string[]; sources: string[]; sinks: string[]; enrichers: string[] } = {
    jobs: [],
    sources: [],
    sinks: [],
    enrichers: [],
  };

  constructor(opts: { defaults?: boolean; version?: string } = {}) {
    if (opts.defaults ?? true) collectDefaultMetrics({ register: this.registry });
    this.buildInfo.set({ version: opts.version ?? '0.0.0', node: process.version }, 1);
    for (const outcome of ['applied', 'refused']) this.configReloads.inc({ outcome }, 0);
    this.storeErrors.inc({ code: 'store_io' }, 0);
    this.storeErrors.inc({ code: 'store_unavailable' }, 0);
  }

  /**
   * Creates every series of the configured components at zero (last-success times at 0: never),
   * keeps the values of components that stay, and removes the series of components a reload
   * dropped (label sets stay bounded by the configuration).
   */
  initComponents(c: { jobs: string[]; sources: string[]; sinks: string[]; enrichers: string[] }): void {
    const gone = (was: string[], now: string[]) => was.filter((x) => !now.includes(x));
    const fresh = (was: string[], now: string[]) => now.filter((x) => !was.includes(x));
    const prev = this.components;
    for (const job of gone(prev.jobs, c.jobs)) {
      this.lastSuccess.remove({ job_name: job });
      this.cursorCommitted.remove({ job_name: job });
      this.runOverlaps.remove({ job_name: job });
      this.jobPaused.remove({ job_name: job });
      for (const outcome of RUN_OUTCOMES) this.runs.remove({ job_name: job, outcome });
    }
    for (const job of fresh(prev.jobs, c.jobs)) {
      this.lastSuccess.set({ job_name: job }, 0);
      for (const outcome of RUN_OUTCOMES) this.runs.inc({ job_name: job, outcome }, 0);
      this.runOverlaps.inc({ job_name: job }, 0);
      this.jobPaused.set({ job_name: job }, 0);
    }
    for (const source of gone(prev.sources, c.sources))
      for (const m of [this.recordsReceived, this.recordsMapped]) m.remove({ source });
    for (const source of fresh(prev.sources, c.sources)) {
      this.recordsReceived.inc({ source }, 0);
      this.recordsMapped.inc({ source }, 0);
    }
    for (const sink of gone(prev.sinks, c.sinks)) {
      for (const g of [this.sinkLag, this.sinkLastSuccess, this.sinkPaused, this.sinkUnacked]) g.remove({ sink });
      for (const m of [this.sinkPushed, this.sinkRejected, this.sinkRefreshed]) m.remove({ sink });
      this.sinkLastReconcile.remove({ sink });
      for (const kind of DRIFT_KINDS) this.sinkDrift.remove({ sink, kind });
    }
    for (const sink of fresh(prev.sinks, c.sinks)) {
      for (const g of [this.sinkLag, this.sinkLastSuccess, this.sinkPaused, this.sinkUnacked]) g.set({ sink }, 0);
      for (const m of [this.sinkPushed, this.sinkRejected, this.sinkRefreshed]) m.inc({ sink }, 0);
      this.sinkLastReconcile.set({ sink }, 0);
      for (const kind of DRIFT_KINDS) this.sinkDrift.set({ sink, kind }, 0);
    }
    for (const enricher of gone(prev.enrichers, c.enrichers))
      for (const m of [this.enrichRequests, this.enrichCacheHits, this.enrichQuotaWaits]) m.remove({ enricher });
    for (const enricher of fresh(prev.enrichers, c.enrichers))
      for (const m of [this.enrichRequests, this.enrichCacheHits, this.enrichQuotaWaits]) m.inc({ enricher }, 0);
    this.components = { jobs: [...c.jobs], sources: [...c.sources], sinks: [...c.sinks], enrichers: [...c.enrichers] };
  }

  /** The counters an enricher run reports to. */
  enricherHooks(enricher: string) {
    return {
      request: () => this.enrichRequests.inc({ enricher }),
      cacheHit: () => this.enrichCacheHits.inc({ enricher }),
      quotaWait: () => this.enrichQuotaWaits.inc({ enricher }),
      error: (reason: string) => this.enrichErrors.inc({ enricher, reason }),
    };
  }

  /** The configured sink ids (their lag is read at every scrape). */
  get sinkIds(): readonly string[] {
    return this.components.sinks;
  }
}

/** The kinds of `stixgate_sink_drift_items` (src/delivery/reconcile.ts). */
const DRIFT_KINDS = ['missing', 'stale', 'extra', 'foreign'] as const;

/** The outcomes of `stixgate_job_runs_total`, created at zero for every job. */
export const RUN_OUTCOMES = ['success', 'error', 'aborted', 'lease_held_elsewhere'] as const;
