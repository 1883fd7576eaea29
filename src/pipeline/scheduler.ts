import { createTask, parse as parseCron, validateDetailed, type ScheduledTask } from 'node-cron';
import { StixgateError } from '../core/errors.js';
import { at } from '../core/indexed.js';
import { backoffWindow } from '../core/backoff.js';
import { isRecord } from '../core/guards.js';

export interface JobSpec {
  /** cron expression (node-cron syntax: 5 fields, or 6 with seconds first). */
  schedule?: string;
  intervalMs?: number;
  /** IANA time zone for `schedule`; UTC when absent. */
  timezone?: string;
  runOnStart?: boolean;
  /** Watchdog: a run longer than this has its signal aborted and counts as failed. */
  timeoutMs?: number;
}

export interface JobStatus {
  id: string;
  running: boolean;
  paused: boolean;
  lastStart?: number;
  lastEnd?: number;
  lastError?: string;
  consecutiveFailures: number;
  /** Next tick (epoch ms); a tick may still be skipped by deferral or failure back-off. */
  nextRun?: number;
  /** No scheduled run before this (Retry-After). */
  deferredUntil?: number;
}

export interface SchedulerOptions {
  onError?: (id: string, err: unknown) => void;
  /** A tick fired while the job's previous run was still going; the tick was skipped. */
  onOverlap?: (id: string) => void;
  /** Clock (epoch ms) used for deferral and back-off decisions. */
  now?: () => number;
  /** Cap on the failure back-off window (default 1 h, never below the job's own interval). */
  maxBackoffMs?: number;
}

export type RunFn = (signal: AbortSignal) => Promise<void>;

interface Job {
  id: string;
  spec: JobSpec;
  run: RunFn;
  /** The job's nominal period, for failure back-off. */
  periodMs: number;
  paused: boolean;
  running?: Promise<void>;
  controller?: AbortController;
  lastStart?: number;
  lastEnd?: number;
  lastError?: string;
  failures: number;
  deferredUntil?: number;
  task?: ScheduledTask;
  timer?: NodeJS.Timeout;
  nextAt?: number;
}

const silentCronLogger = { info() {}, warn() {}, error() {}, debug() {} };

function cyclicMinGap(values: number[], cycle: number): number {
  if (values.length <= 1) return Infinity;
  const v = [...values].sort((a, b) => a - b);
  let min = at(v, 0) + cycle - at(v, v.length - 1);
  for (let i = 1; i < v.length; i++) min = Math.min(min, at(v, i) - at(v, i - 1));
  return min;
}

/** A cron slot reached later than this (or than half the schedule's gap) is dropped, not run. */
export const MAX_CRON_LATENESS_MS = 10 * 60_000;

/** Shortest gap (ms) between two firings of a valid cron expression. */
export function cronMinGapMs(expr: string): number {
  const f = parseCron(expr);
  const s = cyclicMinGap(f.second, 60);
  if (s !== Infinity) return s * 1000;
  const m = cyclicMinGap(f.minute, 60);
  if (m !== Infinity) return m * 60_000;
  const h = cyclicMinGap(f.hour, 24);
  if (h !== Infinity) return h * 3_600_000;
  return 86_400_000;
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Validates a job's schedule for configuration checks (cron syntax, minimum interval, time zone). Returns a message or undefined. */
export function validateSchedule(
  spec: JobSpec & { minIntervalMs?: number },
  opts: { minIntervalMs?: number } = {},
): string | undefined {
  const min = spec.minIntervalMs ?? opts.minIntervalMs ?? 60_000;
  if (spec.schedule !== undefined && spec.intervalMs !== undefined)
    return 'set either a cron schedule or an interval, not both';
  if (spec.timezone !== undefined && !validTimeZone(spec.timezone))
    return `unknown time zone "${spec.timezone}" (use an IANA name such as Europe/Berlin or UTC)`;
  if (spec.schedule !== undefined) {
    const v = validateDetailed(spec.schedule);
    if (!v.valid)
      return `invalid cron expression "${spec.schedule}": ${v.errors.map((e) => e.message).join('; ') || 'unparseable'}`;
    const gap = cronMinGapMs(spec.schedule);
    if (gap < min)
      return `cron expression "${spec.schedule}" fires every ${gap / 1000} s, more often than the minimum of ${min / 1000} s`;
  }
  if (spec.intervalMs !== undefined) {
    if (!Number.isFinite(spec.intervalMs) || spec.intervalMs <= 0)
      return `interval must be a positive number of seconds`;
    if (spec.intervalMs < min)
      return `interval of ${spec.intervalMs / 1000} s is shorter than the minimum of ${min / 1000} s`;
  }
  return undefined;
}

/** What a stop had to do: the jobs it aborted at the end of their share of the grace. */
export interface StopReport {
  aborted: string[];
}

/**
 * Runs jobs on cron schedules or fixed intervals. One run per job at a time (overlapping ticks are
 * skipped and reported), failures isolated and backed off, Retry-After deferral honoured, a
 * watchdog per run, and a graceful stop that aborts in-flight runs after a grace period.
 */
export class Scheduler {
  private readonly jobs = new Map<string, Job>();
  private readonly now: () => number;
  private started = false;
  private stopping = false;

  constructor(private readonly opts: SchedulerOptions = {}) {
    this.now = opts.now ?? Date.now;
  }

  add(id: string, spec: JobSpec, run: RunFn): void {
    if (this.jobs.has(id)) throw new Error(`job ${id} already added`);
    const problem = validateSchedule(spec, { minIntervalMs: 0 });
    if (problem)
      throw new StixgateError('STIXGATE_ERR_CONFIG_INVALID', `job ${id}: ${problem}`, { reason: 'schedule' });
    const periodMs = spec.schedule !== undefined ? cronMinGapMs(spec.schedule) : (spec.intervalMs ?? 0);
    const job: Job = { id, spec, run, periodMs, paused: false, failures: 0 };
    this.jobs.set(id, job);
    if (this.started) this.arm(job);
  }

  start(): void {
    if (this.started || this.stopping) return;
    this.started = true;
    for (const job of this.jobs.values()) this.arm(job);
  }

  /**
   * Runs a job now, ignoring pause, deferral and back-off. `run` replaces the job's own function
   * for this run only (a push with `--full`), in the job's single-run slot and under its watchdog.
   * Rejects when the job is already running (`STIXGATE_ERR_JOB_RUNNING`) or when the run fails.
   */
  runNow(id: string, run?: RunFn): Promise<void> {
    const job = this.get(id);
    if (this.stopping)
      return Promise.reject(
        new StixgateError('STIXGATE_ERR_JOB_ABORTED', `job ${id}: scheduler is stopping`, { reason: 'stopping' }),
      );
    if (job.running)
      return Promise.reject(
        new StixgateError('STIXGATE_ERR_JOB_RUNNING', `job ${id} is already running`, { reason: 'running' }),
      );
    return this.execute(job, true, run);
  }

  has(id: string): boolean {
    return this.jobs.has(id);
  }

  pause(id: string): void {
    this.get(id).paused = true;
  }

  resume(id: string): void {
    this.get(id).paused = false;
  }

  /** No scheduled run of the job before `epochMs`; the first tick after it runs the job. */
  deferUntil(id: string, epochMs: number): void {
    const job = this.get(id);
    job.deferredUntil = Math.max(job.deferredUntil ?? 0, epochMs);
  }

  status(id: string): JobStatus {
    const j = this.get(id);
    const next = j.task ? j.task.getNextRun()?.getTime() : j.nextAt;
    return {
      id,
      running: j.running !== undefined,
      paused: j.paused,
      lastStart: j.lastStart,
      lastEnd: j.lastEnd,
      lastError: j.lastError,
      consecutiveFailures: j.failures,
      nextRun: this.stopping ? undefined : next,
      deferredUntil: j.deferredUntil,
    };
  }

  ids(): string[] {
    return [...this.jobs.keys()];
  }

  /**
   * Stops ticking at once. In-flight runs get three quarters of `graceMs` to finish; the rest
   * are then aborted (reason `shutdown`): a run ends as soon as its signal aborts, even one that
   * ignores it, and a source run commits nothing further. The last quarter of the grace is left
   * for the caller to close the store, so the whole stop fits in `graceMs`.
   */
  async stop(graceMs: number): Promise<StopReport> {
    this.stopping = true;
    for (const job of this.jobs.values()) {
      if (job.timer) clearTimeout(job.timer);
      job.timer = undefined;
      job.nextAt = undefined;
      if (job.task) {
        await job.task.destroy();
        job.task = undefined;
      }
    }
    const running = () => [...this.jobs.values()].filter((j) => j.running);
    const runs = (jobs: Job[]) => jobs.flatMap((j) => (j.running ? [j.running] : []));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((r) => (timer = setTimeout(r, graceMs - Math.floor(graceMs / 4))));
    await Promise.race([Promise.allSettled(runs(running())), graceOver]);
    clearTimeout(timer);
    const aborted = running();
    for (const job of aborted) {
      job.controller?.abort(
        new StixgateError('STIXGATE_ERR_JOB_ABORTED', `job ${job.id}: aborted by shutdown`, { reason: 'shutdown' }),
      );
    }
    await Promise.allSettled(runs(aborted));
    return { aborted: aborted.map((j) => j.id) };
  }

  private get(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw new Error(`unknown job ${id}`);
    return job;
  }

  private arm(job: Job): void {
    if (job.spec.schedule !== undefined) {
      job.task = createTask(job.spec.schedule, () => this.tick(job), {
        timezone: job.spec.timezone ?? 'UTC',
        // node-cron drops a slot reached more than 1 s late (its default); a busy event loop or a
        // loaded host is often later than that. A slot still runs when reached within half the
        // schedule's shortest gap (at most 10 min), once; later ones are dropped, never stacked.
        missedExecutionTolerance: Math.min(Math.floor(job.periodMs / 2), MAX_CRON_LATENESS_MS),
        name: `stixgate:${job.id}`,
        logger: silentCronLogger,
        suppressMissedWarning: true,
      });
      void job.task.start();
    } else if (job.spec.intervalMs !== undefined) {
      this.armInterval(job, this.now() + job.spec.intervalMs, job.spec.intervalMs);
    }
    if (job.spec.runOnStart) setImmediate(() => this.tick(job));
  }

  /** setTimeout chain (no setInterval): ticks keep their phase, missed ticks are dropped, not stacked. */
  private armInterval(job: Job, at: number, period: number): void {
    job.nextAt = at;
    job.timer = setTimeout(
      () => {
        if (this.stopping) return;
        let next = at + period;
        const t = this.now();
        // a missed tick (or a clock stepped ahead) is dropped; a clock stepped back does not hold the
        // job until it catches up again: either way the next run is one period from now
        if (next <= t || next - t > period) next = t + period;
        this.armInterval(job, next, period);
        this.tick(job);
      },
      Math.max(0, at - this.now()),
    );
  }

  private tick(job: Job): void {
    if (this.stopping || job.paused) return;
    if (job.running) {
      this.opts.onOverlap?.(job.id);
      return;
    }
    const t = this.now();
    if (job.deferredUntil !== undefined) {
      if (t < job.deferredUntil) return;
      job.deferredUntil = undefined; // the first tick after the deadline runs, back-off or not
    } else if (job.failures > 0 && job.lastStart !== undefined && job.periodMs > 0) {
      const cap = Math.max(this.opts.maxBackoffMs ?? 3_600_000, job.periodMs);
      const window = backoffWindow(job.failures + 1, job.periodMs, cap);
      // half a period of tolerance so that timer jitter does not push a run one more tick away
      if (t - job.lastStart + job.periodMs / 2 < window) return;
    }
    this.execute(job, false).catch(() => undefined);
  }

  private execute(job: Job, manual: boolean, run: RunFn = job.run): Promise<void> {
    const controller = new AbortController();
    job.controller = controller;
    job.lastStart = this.now();
    let watchdog: NodeJS.Timeout | undefined;
    if (job.spec.timeoutMs !== undefined) {
      watchdog = setTimeout(() => {
        controller.abort(
          new StixgateError(
            'STIXGATE_ERR_JOB_TIMEOUT',
            `job ${job.id}: exceeded its watchdog timeout of ${job.spec.timeoutMs} ms`,
            { reason: 'timeout', retryable: true },
          ),
        );
      }, job.spec.timeoutMs);
    }
    // A run that ignores its signal still ends (as failed) when the signal aborts.
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    aborted.catch(() => undefined);
    const p = (async () => {
      try {
        await Promise.race([Promise.resolve().then(() => run(controller.signal)), aborted]);
        job.failures = 0;
        job.lastError = undefined;
      } catch (err) {
        job.failures++;
        job.lastError = err instanceof Error ? err.message : String(err);
        const retryAfterMs = isRecord(err) ? err.retryAfterMs : undefined;
        if (typeof retryAfterMs === 'number') this.deferUntil(job.id, this.now() + retryAfterMs);
        try {
          this.opts.onError?.(job.id, err);
        } catch {
          /* a failing error callback must not break the scheduler */
        }
        if (manual) throw err;
      } finally {
        clearTimeout(watchdog);
        job.lastEnd = this.now();
        job.running = undefined;
        job.controller = undefined;
      }
    })();
    job.running = p.catch(() => undefined);
    return p;
  }
}
