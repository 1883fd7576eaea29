import { join, resolve } from 'node:path';
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
import { Scheduler, type JobSpec, type RunFn } from './pipeline/scheduler.js';
import { runWithLease } from './pipeline/lease.js';
import { createSourceComponent, type SourceComponent } from './pipeline/components.js';
import { closeSinkComponent, createSinkComponent, type SinkComponent } from './delivery/component.js';
import { Allowlist } from './filter/ingest-allowlist.js';
import { buildIndex, IndexFollower, type LookupIndex } from './lookup/index.js';
import { SnapshotKeeper } from './lookup/snapshot-keeper.js';
import { buildServer } from './server/index.js';
import { isStixgateError } from './core/errors.js';
import { warnInsecureEnvironment } from './http/client.js';
import { MAPPINGS_DIR, VERSION } from './paths.js';
import { removeDaemonFile, writeDaemonFile } from './daemon-file.js';
import { Correlator, CorrelationMetrics } from './correlate/index.js';
import type { PublishFilter } from './filter/policy.js';
import { compileScoring, type Scoring } from './score/model.js';
import { DEFAULT_POLICY, accessPolicy, type AccessPolicy } from './access/policy.js';
import type { EnrichCache } from './enrich/records.js';
import { EdlLists } from './edl/index.js';
import { EdlMetrics } from './telemetry/edl-metrics.js';
import type { SinkRunSummary } from './delivery/runner.js';
import { createAdminControl, PauseBook } from './daemon-admin.js';
import { documentTypes, ingestDocument } from './daemon-ingest.js';
import { enricherJobs, expireJob, type JobHost, rescoreJob, schedulerHooks, warninglistJob } from './daemon-jobs.js';
import { buildPublishFilter } from './daemon-publish.js';
import { runSinkJob, runSourceJob, sinkRun } from './daemon-runs.js';
import { reconcileInSlot, reconcileJob, reconcileRun } from './daemon-reconcile.js';
import type { AdminControl } from './server/admin-types.js';

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
  private correlator?: Correlator;
  private publish?: PublishFilter;
  private statsTimer?: NodeJS.Timeout;
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
      store: () => this.store!,
      scoring: () => this.scoring!,
      access: () => this.access,
      publish: () => this.publish,
      edl: () => this.edl,
      scheduler: () => this.scheduler,
      registry: this.o.registry,
      metrics: this.metrics,
      logger: this.o.logger,
      now: this.now,
      withLease: (name, signal, job) => this.withLease(name, signal, job),
      correlator: () => this.correlator,
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
    await this.pauses.load(this.store);

    this.scoring = compileScoring(config.scoring);
    this.access = accessPolicy({ defaultTlp: config.default_tlp, scoring: this.scoring });
    const cc = config.correlation;
    if (cc.enabled) {
      this.correlator = new Correlator({
        dataDir,
        maxFanout: cc.max_fanout_per_value,
        metrics: new CorrelationMetrics(this.metrics.registry),
        logger: log,
        access: this.access,
      });
      // a first build of a large store takes minutes: it runs in the background, never blocking readiness
      // while a source run ingests, timed catch-ups apply one slice per tick (the run's end triggers a full one)
      this.correlator.start(this.store, cc.follow_interval_ms, cc.page_size, () => this.sourceRuns.count > 0);
      this.statsTimer = setInterval(() => {
        try {
          this.correlator?.stats();
        } catch {
          /* reported by the correlator */
        }
      }, 60_000);
      this.statsTimer.unref();
    }
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
    const restored = await this.snapshots?.load(indexOptions);
    const { index, seq } = restored
      ? { index: restored, seq: restored.seq }
      : await buildIndex(this.store, indexOptions);
    this.index = index;
    const edl = this.createEdl();
    this.server = buildServer({
      config: config.server,
      index,
      store: this.store,
      metrics: this.metrics,
      logger: log,
      now: this.now,
      correlator: this.correlator,
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

    this.follower = new IndexFollower(this.store, index, {
      intervalMs: config.lookup.follow_interval_ms,
      from: seq,
      now: this.now,
      metrics: this.metrics,
      logger: log,
    });
    this.follower.start();
    this.snapshots?.start(index, this.follower);
    this.openEdl();

    this.scheduler = this.createScheduler();
    this.scheduleAll();
    this.pauses.apply(this.scheduler, this.metrics);
    this.scheduler.start();
    this.ready = true;
    log.info({ sources: [...this.components.keys()], sinks: [...this.sinks.keys()] }, 'ready');
  }

  /** The configured firewall lists, empty until `openEdl` has built them (none configured: undefined). */
  private createEdl(): { lists: EdlLists; basicAuth: boolean; metrics: EdlMetrics } | undefined {
    const c = this.loaded.config.edl;
    if (Object.keys(c.lists).length === 0) return undefined;
    const metrics = new EdlMetrics(this.metrics.registry);
    this.edl = new EdlLists(this.store!, c, {
      access: this.access,
      publish: () => this.publish,
      metrics,
      now: this.now,
      logger: this.o.logger,
    });
    return { lists: this.edl, basicAuth: c.basic_auth, metrics };
  }

  /** Builds the firewall lists in the background once the server listens (503 until then, docs/edl.md), then follows the change log. */
  private openEdl(): void {
    const lists = this.edl;
    if (!lists) return;
    void lists.open().then(() => {
      if (lists.ready) this.o.logger.info({ lists: lists.names, seq: lists.seq }, 'firewall lists built');
    });
  }

  private createScheduler(): Scheduler {
    return new Scheduler(schedulerHooks(this.jobHost));
  }

  private jobIds: string[] = [];

  private addJob(id: string, spec: JobSpec, run: RunFn): void {
    this.jobIds.push(id);
    this.scheduler!.add(id, spec, run);
  }

  private scheduleAll(): void {
    this.jobIds = [];
    const config = this.loaded.config;
    const allowlist = new Allowlist(config.allowlist);
    this.allowlist = allowlist;
    for (const bad of allowlist.invalid) this.o.logger.warn({ entry: bad }, 'allowlist entry ignored');
    this.closeComponents();
    for (const [id, raw] of Object.entries(config.sources)) {
      const c = raw as SourceComponent['config'];
      if (!c.enabled) continue;
      const comp = createSourceComponent(id, c, {
        registry: this.o.registry,
        logger: this.o.logger,
        metrics: this.metrics,
        configDir: this.loaded.dir,
        mappingsDir: MAPPINGS_DIR,
      });
      this.components.set(id, comp);
      this.addJob(
        id,
        {
          schedule: c.schedule,
          intervalMs: c.schedule ? undefined : (c.interval_secs ?? 3600) * 1000,
          timezone: c.timezone,
          runOnStart: c.run_on_start as boolean | undefined,
          timeoutMs: 6 * 3600_000,
        },
        (signal) => this.withLease(`source:${id}`, signal, (s2) => runSourceJob(this.jobHost, comp, s2, allowlist)),
      );
    }
    const dataDir = resolve(this.o.dataDir ?? config.data_dir);
    for (const [id, raw] of Object.entries(config.sinks)) {
      const c = raw as SinkComponent['config'];
      if (!c.enabled) continue;
      const comp = createSinkComponent(id, c, {
        registry: this.o.registry,
        logger: this.o.logger,
        configDir: this.loaded.dir,
        mappingsDir: MAPPINGS_DIR,
        dataDir,
      });
      this.sinks.set(id, comp);
      this.addJob(
        `sink:${id}`,
        {
          schedule: c.schedule,
          intervalMs: c.schedule ? undefined : (c.interval_secs ?? 30) * 1000,
          timezone: c.timezone,
          runOnStart: true,
          timeoutMs: 6 * 3600_000,
        },
        (signal) => this.withLease(`sink:${id}`, signal, async (s2) => void (await runSinkJob(this.jobHost, comp, s2))),
      );
      const rj = reconcileJob(this.jobHost, comp, join(dataDir, 'tmp'));
      if (rj) this.addJob(rj.id, rj.spec, rj.run);
    }
    const h = this.jobHost;
    const own = [
      warninglistJob(h),
      rescoreJob(h),
      ...enricherJobs(h, this.enrichCaches, (http) => this.enrichHttp.push(http)),
      expireJob(h),
    ];
    for (const j of own) if (j) this.addJob(j.id, j.spec, j.run);
    this.metrics.initComponents({
      jobs: this.jobIds,
      sources: [...this.components.keys()],
      sinks: [...this.sinks.keys()],
      enrichers: this.jobIds.filter((j) => j.startsWith('enrich:')).map((j) => j.slice(7)),
    });
  }

  /** Runs a job only while this instance holds its lease in the store (src/pipeline/lease.ts). */
  private withLease(name: string, signal: AbortSignal, job: (signal: AbortSignal) => Promise<void>): Promise<void> {
    return runWithLease(
      {
        store: this.store!,
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

  /** The admin API's view of this process (src/daemon-admin.ts). */
  private adminControl(dataDir: string): AdminControl {
    return createAdminControl({
      scheduler: () => this.scheduler,
      sources: () => this.components,
      sinks: () => this.sinks,
      store: () => this.store!,
      metrics: this.metrics,
      pauses: this.pauses,
      lastSummary: this.lastSummary,
      runSource: (id, onRun) => {
        const comp = this.components.get(id)!;
        const allowlist = this.allowlist;
        return this.scheduler!.runNow(id, (signal) =>
          this.withLease(`source:${id}`, signal, (s2) => {
            onRun();
            return runSourceJob(this.jobHost, comp, s2, allowlist);
          }),
        );
      },
      push: async (id, full) => {
        const comp = this.sinks.get(id)!;
        let sum: SinkRunSummary | undefined;
        await this.scheduler!.runNow(`sink:${id}`, (signal) =>
          this.withLease(`sink:${id}`, signal, async (s2) => {
            sum = await runSinkJob(this.jobHost, comp, s2, full);
          }),
        );
        return sum;
      },
      reconcile: (id, apply, limit) => {
        const comp = this.sinks.get(id)!;
        const o = { apply, limit, tmpDir: join(dataDir, 'tmp') };
        return apply
          ? reconcileInSlot(this.jobHost, comp, o)
          : reconcileRun(this.jobHost, comp, new AbortController().signal, o);
      },
      dryRun: (id, full) =>
        sinkRun(this.jobHost, this.sinks.get(id)!, new AbortController().signal, { full, dryRun: true }),
      reload: () => this.reloadOutcome(),
      ingestTypes: () => documentTypes(this.o.registry),
      ingest: (doc, r) =>
        ingestDocument(doc, r, {
          registry: this.o.registry,
          loaded: this.loaded,
          dataDir,
          store: this.store!,
          allowlist: this.allowlist,
          metrics: this.metrics,
          logger: this.o.logger,
          now: this.now,
        }),
      log: (err, job) =>
        this.o.logger.error(
          { job, code: isStixgateError(err) ? err.code : undefined },
          `admin run: ${(err as Error).message}`,
        ),
    });
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
        `daemon file not written in ${this.dataDir}: ${(e as Error).message} (stixgate health and reload need it)`,
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
        `reload refused, keeping the running configuration: ${(e as Error).message}`,
      );
      this.metrics.configReloads.inc({ outcome: 'refused' });
      this.writeDaemonFile({ ok: false, message: (e as Error).message });
      return { ok: false, message: (e as Error).message };
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
    this.scheduleAll();
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
    this.edl?.stop();
    await this.server?.close();
    if (this.statsTimer) clearInterval(this.statsTimer);
    await this.correlator?.close();
    await this.store?.close();
    if (this.dataDir) removeDaemonFile(this.dataDir);
    this.o.logger.info('stopped');
  }
}
