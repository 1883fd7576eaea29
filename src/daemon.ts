import { resolve } from 'node:path';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from './telemetry/logger.js';
import { Metrics } from './telemetry/metrics.js';
import { DEFAULT_SHUTDOWN_SECS } from './config/config-schema.js';
import type { LoadedConfig } from './config/load.js';
import { loadCheckedConfig } from './config/components-check.js';
import type { IntegrationDefinition } from './config/registry.js';
import type { Store } from './store/contract.js';
import { openStore } from './config/open-store.js';
import { Scheduler } from './pipeline/scheduler.js';
import { runWithLease } from './pipeline/lease.js';
import type { SourceComponent } from './pipeline/components.js';
import { closeSinkComponent, type SinkComponent } from './delivery/component.js';
import { Allowlist } from './filter/ingest-allowlist.js';
import { buildIndex, IndexFollower, LookupIndex } from './lookup/index.js';
import { openRemoteLookups, type RemoteLookups } from './daemon-lookup.js';
import { SnapshotKeeper } from './lookup/snapshot-keeper.js';
import { buildServer } from './server/index.js';
import { isStixgateError, errorMessage } from './core/errors.js';
import { warnInsecureEnvironment } from './http/client.js';
import { MAPPINGS_DIR, VERSION } from './paths.js';
import { removeDaemonFile, writeDaemonFile } from './daemon-file.js';
import { type Correlation, startCorrelation } from './daemon-correlation.js';
import type { PublishFilter } from './filter/policy.js';
import { compileScoring, type Scoring } from './score/model.js';
import { DEFAULT_POLICY, accessPolicy, type AccessPolicy } from './access/policy.js';
import type { EnrichCache } from './enrich/records.js';
import type { EdlLists } from './edl/index.js';
import { createEdl, openEdl } from './daemon-edl.js';
import { PauseBook } from './daemon-admin.js';
import { type JobHost, schedulerHooks } from './daemon-jobs.js';
import { buildPublishFilter } from './daemon-publish.js';
import { daemonControl } from './daemon-control.js';
import { scheduleAll } from './daemon-schedule.js';
import type { AdminControl } from './server/admin-types.js';

/** A part `start()` opens; the jobs and routes that read it run only after it. */
function opened<T>(part: T | undefined, what: string): T {
  if (part === undefined) throw new Error(`daemon not started: no ${what} yet`);
  return part;
}

export interface DaemonOptions {
  configPath: string;
  dataDir?: string;
  /** Overrides server.port (0 picks a free port). */
  port?: number;
  registry: readonly IntegrationDefinition[];
  logger: Logger;
  now?: () => number;
}

/**
 * The long-running process: store, lookup index kept current from the change log, one scheduled
 * job per source, the expiry job, and the HTTP server.
 */
export class Daemon {
  readonly metrics = new Metrics({ version: VERSION });
  private loaded!: LoadedConfig;
  private store?: Store;
  private scheduler?: Scheduler;
  private follower?: IndexFollower;
  /** The firewall lists (src/edl), when any is configured. */
  private edl?: EdlLists;
  private server?: FastifyInstance;
  private index?: LookupIndex;
  private snapshots?: SnapshotKeeper;
  private correlation?: Correlation;
  private remoteLookups?: RemoteLookups;
  private publish?: PublishFilter;
  private scoring?: Scoring;
  /** The one access policy every reader uses (default_tlp, scoring). */
  private access: AccessPolicy = DEFAULT_POLICY;
  /** Enricher caches live as long as the process (a reload keeps what was looked up). */
  private enrichCaches = new Map<string, EnrichCache>();
  private enrichHttp: { close(): Promise<void> }[] = [];
  private ready = false;
  private components = new Map<string, SourceComponent>();
  private sinks = new Map<string, SinkComponent>();
  private readonly now: () => number;
  /** The daemon's state as its own jobs (src/daemon-jobs.ts) read it when they run. */
  private readonly jobHost: JobHost;
  private stopping = false;
  private dataDir?: string;
  private reloads = 0;
  private started?: string;
  /** Source runs in progress (the correlation index follows slowly meanwhile). */
  private readonly sourceRuns = { count: 0 };
  /** Jobs paused through the admin API (kept in the store). */
  private readonly pauses = new PauseBook();
  /** Counts of each job's last finished run (the admin API shows them). */
  private readonly lastSummary = new Map<string, Record<string, unknown>>();
  private allowlist = new Allowlist([]);
  /** Reloads run one at a time (SIGHUP and the admin API may ask at once). */
  private reloadChain: Promise<unknown> = Promise.resolve();
  /** This process's identity as a lease holder on a shared store. */
  readonly instanceId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

  constructor(private readonly o: DaemonOptions) {
    this.now = o.now ?? Date.now;
    this.jobHost = {
      loaded: () => this.loaded,
      store: () => opened(this.store, 'store'),
      scoring: () => opened(this.scoring, 'scoring model'),
      access: () => this.access,
      publish: () => this.publish,
      edl: () => this.edl,
      scheduler: () => this.scheduler,
      registry: this.o.registry,
      metrics: this.metrics,
      logger: this.o.logger,
      now: this.now,
      withLease: (name, signal, job) => this.withLease(name, signal, job),
      correlator: () => this.correlation?.correlator,
      lastSummary: this.lastSummary,
      activeSourceRuns: this.sourceRuns,
    };
  }

  get address(): string | undefined {
    const a = this.server?.server.address();
    return a && typeof a === 'object'
      ? `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`
      : undefined;
  }

  async start(): Promise<void> {
    const log = this.o.logger;
    this.loaded = await this.loadChecked();
    for (const w of this.loaded.warnings) log.warn(w);
    const insecure = warnInsecureEnvironment();
    if (insecure) log.warn(insecure);
    const config = this.loaded.config;
    const dataDir = resolve(this.o.dataDir ?? config.data_dir);

    this.store = await openStore(config, dataDir);
    log.info({ dataDir, store: this.store.kind }, 'store open');
    for (const w of this.store.warnings ?? []) log.warn(w);
    await this.pauses.load(this.store);

    this.scoring = compileScoring(config.scoring);
    this.access = accessPolicy({ defaultTlp: config.default_tlp, scoring: this.scoring });
    this.correlation = startCorrelation({
      config: config.correlation,
      dataDir,
      store: this.store,
      metrics: this.metrics,
      logger: log,
      access: this.access,
      busy: () => this.sourceRuns.count > 0,
      holder: this.instanceId,
      leaseTtlMs: config.lease_ttl_secs * 1000,
      now: this.now,
    });
    this.publish = await this.buildPublishFilter();

    // The server answers /healthz at once and /readyz once the index is built.
    const indexOptions = { matchParentDomains: config.lookup.match_parent_domains, now: this.now, access: this.access };
    if (config.lookup.snapshot && this.store.kind === 'embedded') {
      this.snapshots = new SnapshotKeeper({
        dataDir,
        store: this.store,
        access: this.access,
        logger: log,
        intervalMs: config.lookup.snapshot_interval_mins * 60_000,
      });
    }
    this.remoteLookups = await openRemoteLookups({
      config,
      store: this.store,
      dataDir,
      indexOptions,
      logger: log,
      metrics: this.metrics,
    });
    const remote = this.remoteLookups?.remote;
    const restored = remote ? undefined : await this.snapshots?.load(indexOptions);
    const { index, seq } = remote
      ? { index: new LookupIndex(indexOptions), seq: remote.seq }
      : restored
        ? { index: restored, seq: restored.seq }
        : await buildIndex(this.store, indexOptions);
    this.index = index;
    const edl = createEdl(config.edl, this.store, this.metrics, {
      access: this.access,
      publish: () => this.publish,
      now: this.now,
      logger: log,
    });
    this.edl = edl?.lists;
    this.server = buildServer({
      config: config.server,
      index,
      remote,
      store: this.store,
      metrics: this.metrics,
      logger: log,
      now: this.now,
      correlator: this.correlation?.correlator,
      scoring: this.scoring,
      access: this.access,
      publishFilter: () => this.publish,
      edl,
      taxii: {
        config: config.taxii,
        dataDir,
        ingest: {
          allowRed: config.allow_red,
          defaultTlp: config.default_tlp,
          allowlist: new Allowlist(config.allowlist),
        },
      },
      isReady: () => this.ready && (this.follower?.healthy ?? true),
      admin: this.adminControl(dataDir),
      sinks: () => [...this.sinks.keys()],
    });
    await this.server.listen({ host: config.server.listen_host, port: this.o.port ?? config.server.port });
    log.info({ address: this.address, indexed: seq }, 'listening');
    this.dataDir = dataDir;
    this.writeDaemonFile();

    this.follower = new IndexFollower(this.store, remote ?? index, {
      intervalMs: config.lookup.follow_interval_ms,
      from: seq,
      now: this.now,
      metrics: this.metrics,
      logger: log,
    });
    this.follower.start();
    this.snapshots?.start(index, this.follower);
    if (remote) this.remoteLookups?.keeper.start(remote, this.follower);
    openEdl(this.edl, log);

    this.scheduler = this.createScheduler();
    this.scheduleAll(this.scheduler);
    this.pauses.apply(this.scheduler, this.metrics);
    this.scheduler.start();
    this.ready = true;
    log.info({ sources: [...this.components.keys()], sinks: [...this.sinks.keys()] }, 'ready');
  }

  private createScheduler(): Scheduler {
    return new Scheduler(schedulerHooks(this.jobHost));
  }

  /** Closes the previous components and schedules the loaded configuration's on the current scheduler. */
  private scheduleAll(scheduler: Scheduler): void {
    this.closeComponents();
    const dataDir = resolve(this.o.dataDir ?? this.loaded.config.data_dir);
    const s = scheduleAll(this.jobHost, scheduler, {
      dataDir,
      enrichCaches: this.enrichCaches,
      onEnrichHttp: (http) => this.enrichHttp.push(http),
    });
    this.components = s.components;
    this.sinks = s.sinks;
    this.allowlist = s.allowlist;
  }

  /** Runs a job only while this instance holds its lease in the store (src/pipeline/lease.ts). */
  private withLease(name: string, signal: AbortSignal, job: (signal: AbortSignal) => Promise<void>): Promise<void> {
    return runWithLease(
      {
        store: opened(this.store, 'store'),
        name,
        holder: this.instanceId,
        ttlMs: this.loaded.config.lease_ttl_secs * 1000,
        now: this.now,
        logger: this.o.logger,
        signal,
        onHeldElsewhere: () => this.metrics.runs.inc({ job_name: name, outcome: 'lease_held_elsewhere' }),
      },
      job,
    );
  }

  /** The admin API's view of this process (src/daemon-control.ts). */
  private adminControl(dataDir: string): AdminControl {
    return daemonControl(
      {
        jobHost: this.jobHost,
        scheduler: () => this.scheduler,
        components: () => this.components,
        sinks: () => this.sinks,
        allowlist: () => this.allowlist,
        loaded: () => this.loaded,
        registry: this.o.registry,
        pauses: this.pauses,
        lastSummary: this.lastSummary,
        reloadOutcome: () => this.reloadOutcome(),
      },
      dataDir,
    );
  }

  private buildPublishFilter(): Promise<PublishFilter> {
    return buildPublishFilter(this.loaded, this.o.logger);
  }

  private closeComponents(): void {
    for (const c of this.components.values()) void c.http.close().catch(() => undefined);
    this.components.clear();
    for (const c of this.sinks.values()) void closeSinkComponent(c);
    this.sinks.clear();
    for (const h of this.enrichHttp) void h.close().catch(() => undefined);
    this.enrichHttp = [];
  }

  private loadChecked(): Promise<LoadedConfig> {
    return loadCheckedConfig(this.o.configPath, this.o.registry, MAPPINGS_DIR, this.o.dataDir);
  }

  private writeDaemonFile(reload?: { ok: boolean; message: string }): void {
    if (!this.dataDir || !this.address) return;
    const at = new Date(this.now()).toISOString();
    try {
      writeDaemonFile(this.dataDir, {
        pid: process.pid,
        url: this.address,
        config: this.loaded.path,
        started: this.started ?? at,
        reload: reload && { seq: this.reloads, ...reload, at },
      });
      this.started ??= at;
    } catch (e) {
      this.o.logger.warn(
        `daemon file not written in ${this.dataDir}: ${errorMessage(e)} (stixgate health and reload need it)`,
      );
    }
  }

  /** SIGHUP: re-read the configuration; keep the running one when the new one is invalid. */
  async reload(): Promise<boolean> {
    return (await this.reloadOutcome()).ok;
  }

  /** A reload (one at a time) and its outcome, as `stixgate reload` and the admin API report it. */
  reloadOutcome(): Promise<{ ok: boolean; message: string }> {
    const run = this.reloadChain.then(() => this.reloadOnce());
    this.reloadChain = run.catch(() => undefined);
    return run;
  }

  private async reloadOnce(): Promise<{ ok: boolean; message: string }> {
    this.reloads++;
    let next: LoadedConfig;
    try {
      next = await this.loadChecked();
    } catch (e) {
      this.o.logger.error(
        { code: isStixgateError(e) ? e.code : undefined },
        `reload refused, keeping the running configuration: ${errorMessage(e)}`,
      );
      this.metrics.configReloads.inc({ outcome: 'refused' });
      this.writeDaemonFile({ ok: false, message: errorMessage(e) });
      return { ok: false, message: errorMessage(e) };
    }
    await this.scheduler?.stop(this.loaded.config.shutdown_timeout_secs * 1000);
    this.loaded = next;
    this.publish = await this.buildPublishFilter();
    // the firewall lists judged every value against the previous warninglists and publish allowlist
    this.edl
      ?.rebuild()
      .catch((e: unknown) =>
        this.o.logger.warn(
          { err: e },
          'firewall lists not rebuilt after the reload; the next reload or warninglist refresh tries again',
        ),
      );
    this.scheduler = this.createScheduler();
    this.scheduleAll(this.scheduler);
    this.pauses.apply(this.scheduler, this.metrics);
    this.scheduler.start();
    this.o.logger.info(
      { sources: [...this.components.keys()] },
      'configuration reloaded (server and store settings apply at restart)',
    );
    this.metrics.configReloads.inc({ outcome: 'applied' });
    const message = `configuration reloaded (${this.components.size} source(s), ${this.sinks.size} sink(s))`;
    this.writeDaemonFile({ ok: true, message });
    return { ok: true, message };
  }

  runNow(id: string): Promise<void> {
    if (!this.scheduler) throw new Error('not started');
    return this.scheduler.runNow(id);
  }

  /** The stop's budget for in-flight work (`shutdown_timeout_secs`; 8 s, under a container's 10 s). */
  get shutdownGraceMs(): number {
    return (this.loaded?.config.shutdown_timeout_secs ?? DEFAULT_SHUTDOWN_SECS) * 1000;
  }

  /**
   * Graceful shutdown: no new ticks; in-flight runs finish or are aborted within the grace,
   * abandoned pages commit neither objects nor cursors; then the server, the indexes and the store close.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.ready = false;
    const graceSecs = this.shutdownGraceMs / 1000;
    const report = await this.scheduler?.stop(this.shutdownGraceMs);
    if (report?.aborted.length)
      this.o.logger.warn({ jobs: report.aborted }, `shutdown grace of ${graceSecs} s over; in-flight jobs aborted`);
    this.closeComponents();
    this.follower?.stop();
    if (this.snapshots && this.index && this.follower) await this.snapshots.stop(this.index, this.follower);
    const rl = this.remoteLookups;
    if (rl && this.follower) await rl.keeper.stop(rl.remote, this.follower);
    this.edl?.stop();
    await this.server?.close();
    await this.correlation?.close();
    await this.store?.close();
    if (this.dataDir) removeDaemonFile(this.dataDir);
    this.o.logger.info('stopped');
  }
}
