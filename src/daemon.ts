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
import { Scheduler, type JobSpec, type RunFn } from './pipeline/scheduler.js';
import { runWithLease } from './pipeline/lease.js';
import { createSourceComponent, type SourceComponent } from './pipeline/components.js';
import { runSource } from './pipeline/runner.js';
import { closeSinkComponent, createSinkComponent, runSinkComponent, type SinkComponent } from './delivery/component.js';
import { Allowlist } from './filter/ingest-allowlist.js';
import { buildIndex, IndexFollower, type LookupIndex } from './lookup/index.js';
import { buildServer } from './server/index.js';
import { isStixgateError } from './core/errors.js';
import { warnInsecureEnvironment } from './http/client.js';
import { MAPPINGS_DIR, VERSION } from './paths.js';
import { removeDaemonFile, writeDaemonFile } from './daemon-file.js';
import { Correlator, CorrelationMetrics } from './correlate/index.js';
import { createPublishFilter, reloadWarninglists } from './filter/setup.js';
import type { PublishFilter } from './filter/policy.js';
import { createHttpClient } from './http/client.js';
import { compileScoring, type Scoring } from './score/model.js';
import { DEFAULT_POLICY, accessPolicy, type AccessPolicy } from './access/policy.js';
import { rescoreStore } from './store/rescore.js';
import { enricherHttpPolicy, enricherRunSettings } from './enrich/schema.js';
import { EnrichCache } from './enrich/records.js';
import { runEnricher } from './enrich/runner.js';
import type { EnricherDefinition } from './enrich/types.js';
import { EdlLists } from './edl/index.js';
import { EdlMetrics } from './telemetry/edl-metrics.js';
import type { SinkRunSummary } from './delivery/runner.js';
import { createAdminControl, PauseBook } from './daemon-admin.js';
import { documentTypes, ingestDocument } from './daemon-ingest.js';
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
  private stopping = false;
  private dataDir?: string;
  private reloads = 0;
  private started?: string;
  /** Source runs in progress (the correlation index follows slowly meanwhile). */
  private sourceRuns = 0;
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
  }

  get address(): string | undefined {
    const a = this.server?.server.address();
    return a && typeof a === 'object' ? `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}` : undefined;
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
      this.correlator = new Correlator({ dataDir, maxFanout: cc.max_fanout_per_value, metrics: new CorrelationMetrics(this.metrics.registry), logger: log, access: this.access });
      // a first build of a large store takes minutes: it runs in the background, never blocking readiness
      // while a source run ingests, timed catch-ups apply one slice per tick (the run's end triggers a full one)
      this.correlator.start(this.store, cc.follow_interval_ms, cc.page_size, () => this.sourceRuns > 0);
      this.statsTimer = setInterval(() => { try { this.correlator?.stats(); } catch { /* reported by the correlator */ } }, 60_000);
      this.statsTimer.unref();
    }
    this.publish = await this.buildPublishFilter();

    // The server answers /healthz at once and /readyz once the index is built.
    const { index, seq } = await buildIndex(this.store, { matchParentDomains: config.lookup.match_parent_domains, now: this.now, access: this.access });
    this.index = index;
    const edl = await this.buildEdl();
    this.server = buildServer({
      config: config.server, index, store: this.store, metrics: this.metrics, logger: log, now: this.now, correlator: this.correlator, scoring: this.scoring, access: this.access, publishFilter: () => this.publish, edl,
      taxii: { config: config.taxii, dataDir, ingest: { allowRed: config.allow_red, defaultTlp: config.default_tlp, allowlist: new Allowlist(config.allowlist) } },
      isReady: () => this.ready && (this.follower?.healthy ?? true), admin: this.adminControl(dataDir),
    });
    await this.server.listen({ host: config.server.listen_host, port: this.o.port ?? config.server.port });
    log.info({ address: this.address, indexed: seq }, 'listening');
    this.dataDir = dataDir;
    this.writeDaemonFile();

    this.follower = new IndexFollower(this.store, index, { intervalMs: config.lookup.follow_interval_ms, from: seq, now: this.now, metrics: this.metrics, logger: log });
    this.follower.start();
    this.edl?.start();

    this.scheduler = this.createScheduler();
    this.scheduleAll();
    this.pauses.apply(this.scheduler, this.metrics);
    this.scheduler.start();
    this.ready = true;
    log.info({ sources: [...this.components.keys()], sinks: [...this.sinks.keys()] }, 'ready');
  }

  /** The configured firewall lists, filled from the store before the server listens (none configured: undefined). */
  private async buildEdl(): Promise<{ lists: EdlLists; basicAuth: boolean; metrics: EdlMetrics } | undefined> {
    const c = this.loaded.config.edl;
    if (Object.keys(c.lists).length === 0) return undefined;
    const metrics = new EdlMetrics(this.metrics.registry);
    this.edl = new EdlLists(this.store!, c, { access: this.access, publish: () => this.publish, metrics, now: this.now, logger: this.o.logger });
    await this.edl.build();
    this.o.logger.info({ lists: this.edl.names, seq: this.edl.seq }, 'firewall lists built');
    return { lists: this.edl, basicAuth: c.basic_auth, metrics };
  }

  private createScheduler(): Scheduler {
    return new Scheduler({
      onError: (id: string, err: unknown) => {
        const reason = isStixgateError(err) ? err.reason : 'internal';
        this.metrics.runErrors.inc({ job_name: id, reason });
        if (isStixgateError(err) && err.code.startsWith('STIXGATE_ERR_STORE_')) this.metrics.storeErrors.inc({ code: err.code.replace(/^STIXGATE_ERR_/, '').toLowerCase() });
        if (isStixgateError(err) && err.retryAfterMs !== undefined) this.scheduler?.deferUntil(id, this.now() + err.retryAfterMs);
        this.o.logger.error({ job: id, code: isStixgateError(err) ? err.code : undefined, reason }, (err as Error).message);
      },
      onOverlap: (id: string) => {
        this.metrics.runOverlaps.inc({ job_name: id });
        this.o.logger.warn({ job: id }, 'previous run still going; tick skipped');
      },
    });
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
      const comp = createSourceComponent(id, c, { registry: this.o.registry, logger: this.o.logger, metrics: this.metrics, configDir: this.loaded.dir, mappingsDir: MAPPINGS_DIR });
      this.components.set(id, comp);
      this.addJob(
        id,
        { schedule: c.schedule, intervalMs: c.schedule ? undefined : (c.interval_secs ?? 3600) * 1000, timezone: c.timezone, runOnStart: c.run_on_start as boolean | undefined, timeoutMs: 6 * 3600_000 },
        (signal) => this.withLease(`source:${id}`, signal, (s2) => this.runJob(comp, s2, allowlist)),
      );
    }
    const dataDir = resolve(this.o.dataDir ?? config.data_dir);
    for (const [id, raw] of Object.entries(config.sinks)) {
      const c = raw as SinkComponent['config'];
      if (!c.enabled) continue;
      const comp = createSinkComponent(id, c, { registry: this.o.registry, logger: this.o.logger, configDir: this.loaded.dir, mappingsDir: MAPPINGS_DIR, dataDir });
      this.sinks.set(id, comp);
      this.addJob(
        `sink:${id}`,
        { schedule: c.schedule, intervalMs: c.schedule ? undefined : (c.interval_secs ?? 30) * 1000, timezone: c.timezone, runOnStart: true, timeoutMs: 6 * 3600_000 },
        (signal) => this.withLease(`sink:${id}`, signal, async (s2) => void (await this.runSinkJob(comp, s2))),
      );
    }
    const wl = config.warninglists;
    if (wl.enabled && (wl.paths.length || wl.urls.length)) {
      this.addJob('warninglists', { intervalMs: wl.refresh_hours * 3600_000 }, async (signal) => {
        if (!this.publish) return;
        const http = this.warninglistHttp();
        try {
          const r = await reloadWarninglists(this.publish, this.resolvedWarninglists(), http, signal);
          for (const p of r.problems) this.o.logger.warn({ list: p.origin, path: p.path }, p.message);
          if (!r.swapped) this.o.logger.warn('warninglist reload loaded nothing; keeping the previous lists');
          else {
            this.metrics.lastSuccess.set({ job_name: 'warninglists' }, this.now() / 1000);
            // the lists judged every value against the previous warninglists
            await this.edl?.rebuild();
          }
        } finally {
          await http.close();
        }
      });
    }
    const sc = config.scoring;
    this.addJob('rescore', { intervalMs: sc.rescore_interval_secs * 1000, runOnStart: false }, (signal) =>
      this.withLease('rescore', signal, async (s2) => {
        // the model the store merges with (compiled from the same start-up configuration)
        const r = await rescoreStore(this.store!, this.scoring!, this.now(), { pageSize: sc.rescore_page_size, signal: s2 });
        if (r.updated) this.metrics.rescored.inc({ outcome: 'updated' }, r.updated);
        if (r.expired) this.metrics.rescored.inc({ outcome: 'expired' }, r.expired);
        this.o.logger.info(r, 'scores decayed');
        this.metrics.lastSuccess.set({ job_name: 'rescore' }, this.now() / 1000);
      }),
    );
    for (const [id, raw] of Object.entries(config.enrichers)) {
      if (!raw.enabled) continue;
      const def = this.o.registry.find((d) => d.kind === 'enricher' && d.type === raw.type) as EnricherDefinition | undefined;
      if (!def) continue;
      const logger = this.o.logger.child({ enricher: id, type: raw.type });
      const http = createHttpClient(enricherHttpPolicy(raw, this.loaded.dir), { component: `enrich:${id}`, logger });
      this.enrichHttp.push(http);
      const enricher = def.create(raw, { logger, configDir: this.loaded.dir, mappingsDir: MAPPINGS_DIR });
      let cache = this.enrichCaches.get(id);
      if (!cache) this.enrichCaches.set(id, (cache = new EnrichCache(raw.cache_size)));
      const hooks = this.metrics.enricherHooks(id);
      const job = `enrich:${id}`;
      this.addJob(job, { intervalMs: raw.interval_secs * 1000, runOnStart: raw.run_on_start }, (signal) =>
        this.withLease(job, signal, async (s2) => {
          const sum = await runEnricher({ id, enricher, store: this.store!, http, logger, metrics: hooks, now: this.now, signal: s2, cache, access: this.access, ...enricherRunSettings(def, raw) });
          this.metrics.runs.inc({ job_name: job, outcome: sum.error ? 'error' : 'success' });
          if (sum.retryAfterMs) this.scheduler?.deferUntil(job, this.now() + sum.retryAfterMs);
          if (sum.error) logger.error({ stopped: sum.stopped }, `enrichment stopped: ${sum.error}`);
          else this.metrics.lastSuccess.set({ job_name: job }, this.now() / 1000);
        }),
      );
    }
    this.addJob('expire', { intervalMs: config.expire_interval_secs * 1000, runOnStart: true }, (signal) =>
      this.withLease('expire', signal, async () => {
        const n = await this.store!.expire(this.now());
        if (n) {
          this.metrics.expired.inc(n);
          this.o.logger.info({ expired: n }, 'indicators expired');
        }
        this.metrics.lastSuccess.set({ job_name: 'expire' }, this.now() / 1000);
      }),
    );
    this.metrics.initComponents({ jobs: this.jobIds, sources: [...this.components.keys()], sinks: [...this.sinks.keys()], enrichers: this.jobIds.filter((j) => j.startsWith('enrich:')).map((j) => j.slice(7)) });
  }

  /** Runs a job only while this instance holds its lease in the store (src/pipeline/lease.ts). */
  private withLease(name: string, signal: AbortSignal, job: (signal: AbortSignal) => Promise<void>): Promise<void> {
    return runWithLease({
      store: this.store!, name, holder: this.instanceId, ttlMs: this.loaded.config.lease_ttl_secs * 1000, now: this.now, logger: this.o.logger, signal,
      onHeldElsewhere: () => this.metrics.runs.inc({ job_name: name, outcome: 'lease_held_elsewhere' }),
    }, job);
  }

  private async runJob(comp: SourceComponent, signal: AbortSignal, allowlist: Allowlist): Promise<void> {
    const end = this.metrics.runDuration.startTimer({ job_name: comp.id });
    this.sourceRuns++;
    try {
      const sum = await runSource({
        id: comp.id, source: comp.source, config: comp.config, store: this.store!, http: comp.http, logger: comp.logger,
        metrics: this.metrics, allowlist, allowRed: this.loaded.config.allow_red, defaultTlp: this.loaded.config.default_tlp, signal, now: this.now,
      });
      if (signal.aborted) {
        this.metrics.runs.inc({ job_name: comp.id, outcome: 'aborted' });
        return;
      }
      this.metrics.runs.inc({ job_name: comp.id, outcome: 'success' });
      this.metrics.lastSuccess.set({ job_name: comp.id }, this.now() / 1000);
      void this.correlator?.catchUp(this.store!, { pageSize: this.loaded.config.correlation.page_size }).catch(() => undefined);
      const { samples, ...counts } = sum;
      this.lastSummary.set(comp.id, counts);
      comp.logger.info(counts, 'run finished');
      for (const r of samples.slice(0, 5)) comp.logger.warn({ reason: r.reason, location: r.location }, r.message);
    } catch (e) {
      this.metrics.runs.inc({ job_name: comp.id, outcome: 'error' });
      throw e;
    } finally {
      this.sourceRuns--;
      end();
    }
  }

  private async runSinkJob(comp: SinkComponent, signal: AbortSignal, full = false): Promise<SinkRunSummary> {
    const job = `sink:${comp.id}`;
    const end = this.metrics.runDuration.startTimer({ job_name: job });
    try {
      const sum = await this.sinkRun(comp, signal, { full });
      const { planned: _planned, ...counts } = sum;
      this.lastSummary.set(job, counts);
      this.metrics.runs.inc({ job_name: job, outcome: signal.aborted ? 'aborted' : 'success' });
      if (!signal.aborted) this.metrics.lastSuccess.set({ job_name: job }, this.now() / 1000);
      if (sum.changes) comp.logger.info({ ...sum, planned: undefined }, 'push finished');
      return sum;
    } catch (e) {
      this.metrics.runs.inc({ job_name: job, outcome: 'error' });
      if (isStixgateError(e) && e.code === 'STIXGATE_ERR_SINK_AUTH') comp.logger.error({ alert: 'sink_paused' }, `sink paused until its credentials are accepted: ${e.message}`);
      throw e;
    } finally {
      end();
    }
  }

  /** One run of a sink with the daemon's store, metrics, view and publish filter (`dryRun` sends and commits nothing). */
  private sinkRun(comp: SinkComponent, signal: AbortSignal, o: { full?: boolean; dryRun?: boolean }): Promise<SinkRunSummary> {
    const publish = this.publish;
    return runSinkComponent(comp, {
      store: this.store!, metrics: o.dryRun ? undefined : this.metrics, signal, now: this.now, access: this.access, publish: publish && ((x, s) => publish.check(x, s)), ...o,
    });
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
        return this.scheduler!.runNow(id, (signal) => this.withLease(`source:${id}`, signal, (s2) => {
          onRun();
          return this.runJob(comp, s2, allowlist);
        }));
      },
      push: async (id, full) => {
        const comp = this.sinks.get(id)!;
        let sum: SinkRunSummary | undefined;
        await this.scheduler!.runNow(`sink:${id}`, (signal) => this.withLease(`sink:${id}`, signal, async (s2) => void (sum = await this.runSinkJob(comp, s2, full))));
        return sum;
      },
      dryRun: (id, full) => this.sinkRun(this.sinks.get(id)!, new AbortController().signal, { full, dryRun: true }),
      reload: () => this.reloadOutcome(),
      ingestTypes: () => documentTypes(this.o.registry),
      ingest: (doc, r) => ingestDocument(doc, r, {
        registry: this.o.registry, loaded: this.loaded, dataDir, store: this.store!, allowlist: this.allowlist, metrics: this.metrics, logger: this.o.logger, now: this.now,
      }),
      log: (err, job) => this.o.logger.error({ job, code: isStixgateError(err) ? err.code : undefined }, `admin run: ${(err as Error).message}`),
    });
  }

  /** Warninglist paths resolve from the configuration file's directory. */
  private resolvedWarninglists() {
    const wl = this.loaded.config.warninglists;
    return { ...wl, paths: wl.paths.map((p) => resolve(this.loaded.dir, p)) };
  }

  private warninglistHttp() {
    return createHttpClient(
      { headersTimeoutMs: 30_000, bodyTimeoutMs: 60_000, totalTimeoutMs: 120_000, maxBytes: 64 * 1024 * 1024, maxRedirects: 3, allowPrivate: false, allowInsecure: false, verifyTls: true, retry: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 } },
      { component: 'warninglists', logger: this.o.logger },
    );
  }

  private async buildPublishFilter(): Promise<PublishFilter> {
    const config = this.loaded.config;
    const trusted = Object.entries(config.sources).filter(([, c]) => (c as { enabled: boolean; trusted: boolean }).enabled && (c as { trusted: boolean }).trusted).map(([id]) => id);
    const http = this.warninglistHttp();
    try {
      const { filter, problems } = await createPublishFilter({ warninglists: this.resolvedWarninglists(), publish_allowlist: config.publish_allowlist }, trusted, http);
      for (const p of problems) this.o.logger.warn({ list: p.origin, path: p.path }, p.message);
      this.o.logger.info({ lists: filter.lists?.size ?? 0 }, 'warninglists loaded');
      return filter;
    } finally {
      await http.close();
    }
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
        pid: process.pid, url: this.address, config: this.loaded.path, started: this.started ?? at,
        reload: reload && { seq: this.reloads, ...reload, at },
      });
      this.started ??= at;
    } catch (e) {
      this.o.logger.warn(`daemon file not written in ${this.dataDir}: ${(e as Error).message} (stixgate health and reload need it)`);
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
      this.o.logger.error({ code: isStixgateError(e) ? e.code : undefined }, `reload refused, keeping the running configuration: ${(e as Error).message}`);
      this.metrics.configReloads.inc({ outcome: 'refused' });
      this.writeDaemonFile({ ok: false, message: (e as Error).message });
      return { ok: false, message: (e as Error).message };
    }
    await this.scheduler?.stop(this.loaded.config.shutdown_timeout_secs * 1000);
    this.loaded = next;
    this.publish = await this.buildPublishFilter();
    this.scheduler = this.createScheduler();
    this.scheduleAll();
    this.pauses.apply(this.scheduler, this.metrics);
    this.scheduler.start();
    this.o.logger.info({ sources: [...this.components.keys()] }, 'configuration reloaded (server and store settings apply at restart)');
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
    if (report?.aborted.length) this.o.logger.warn({ jobs: report.aborted }, `shutdown grace of ${graceSecs} s over; in-flight jobs aborted`);
    this.closeComponents();
    this.follower?.stop();
    this.edl?.stop();
    await this.server?.close();
    if (this.statsTimer) clearInterval(this.statsTimer);
    await this.correlator?.close();
    await this.store?.close();
    if (this.dataDir) removeDaemonFile(this.dataDir);
    this.o.logger.info('stopped');
  }
}
