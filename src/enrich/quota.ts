import Bottleneck from 'bottleneck';
import { StixgateError } from '../core/errors.js';
import type { Store } from '../store/contract.js';
import { parseRetryAfter } from '../core/backoff.js';
import type { HttpClient, HttpRequest, HttpResponse } from '../http/types.js';

/**
 * The quota gate of one enricher: every HTTP request to the service passes through it.
 *
 *  - per minute: a bottleneck reservoir used as a sliding window. A slot is taken when a request
 *    starts and given back one window after its response arrived. The service counts a request
 *    somewhere between the two, so any N+1 requests the service counts span at least one window:
 *    the quota holds against any window the service uses (fixed or sliding), whatever the latency;
 *  - per day (UTC, as VirusTotal and AbuseIPDB reset at 00:00 UTC): a counter;
 *  - a 429 blocks every request until its Retry-After (or X-RateLimit-Reset, or one window).
 *
 * The state is persisted in the store under cursor `enrich:<id>:quota` BEFORE each request goes
 * out, so a crash or restart never forgets a spent request: the daily count survives, and the
 * minute window restarts from marks that are, for an interrupted request, its start plus the
 * longest time a request may take (conservative). A request that never reached the service is
 * still counted; a quota is never exceeded.
 */

export interface Quota {
  per_minute?: number;
  per_day?: number;
}

export interface QuotaState {
  /** UTC day (YYYY-MM-DD) the count belongs to. */
  day: string;
  /** Requests made that day. */
  used: number;
  /** Epoch ms from which each recent request's slot counts (response time; start + margin while in flight). */
  recent: number[];
  /** No request before this epoch ms (429, or the daily quota). */
  blocked_until?: number;
}

export interface QuotaHooks {
  /** A request had to wait for a per-minute slot. */
  quotaWait?(): void;
  /** One request went out (after its slot and day budget were taken). */
  request?(): void;
}

export interface QuotaGateOptions {
  id: string;
  store: Store;
  quota: Quota;
  /** Epoch ms clock. */
  now: () => number;
  /** The timers that give slots back, on the same clock as `now` (default: the process's timers). */
  timers?: QuotaTimers;
  /** The window of `per_minute` (default 60,000 ms; tests shorten it). */
  windowMs?: number;
  /** The longest a request may take (its slot is held this long if the process dies mid-request). */
  inflightMs?: number;
  /** Requests in flight at once (default 1). */
  concurrency?: number;
  hooks?: QuotaHooks;
}

/** Timers as the gate uses them: a fake clock in tests provides both on its own time. */
export interface QuotaTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const PROCESS_TIMERS: QuotaTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export const quotaCursorName = (id: string): string => `enrich:${id}:quota`;

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Epoch ms of the next 00:00 UTC after `ms`. */
export function nextUtcMidnight(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}

export function parseQuotaState(text: string | undefined): QuotaState | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as Partial<QuotaState>;
    if (typeof v.day !== 'string' || typeof v.used !== 'number' || !Array.isArray(v.recent)) return undefined;
    return {
      day: v.day,
      used: v.used,
      recent: v.recent.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)),
      ...(typeof v.blocked_until === 'number' ? { blocked_until: v.blocked_until } : {}),
    };
  } catch {
    return undefined;
  }
}

export class QuotaGate {
  readonly windowMs: number;
  /** Requests per window, or undefined for no per-minute cap. */
  private readonly slots: number | undefined;
  private readonly inflightMs: number;
  private readonly limiter: Bottleneck;
  private state: QuotaState = { day: '', used: 0, recent: [] };
  private readonly timers = new Set<unknown>();
  private readonly clock: QuotaTimers;
  private closed = false;

  private constructor(private readonly o: QuotaGateOptions) {
    // below one request per minute: one request per 1/per_minute minutes (e.g. 0.5 → 1 per 2 min)
    const pm = o.quota.per_minute;
    this.slots = pm === undefined ? undefined : Math.max(1, Math.floor(pm));
    this.windowMs = (o.windowMs ?? 60_000) * (pm !== undefined && pm < 1 ? 1 / pm : 1);
    this.inflightMs = o.inflightMs ?? 60_000;
    this.limiter = new Bottleneck({ maxConcurrent: Math.max(1, o.concurrency ?? 1) });
    this.clock = o.timers ?? PROCESS_TIMERS;
  }

  /** Loads the persisted state and sets the reservoir from the requests of the last window. */
  static async open(o: QuotaGateOptions): Promise<QuotaGate> {
    const g = new QuotaGate(o);
    const loaded = parseQuotaState(await o.store.getCursor(quotaCursorName(o.id)));
    const now = o.now();
    const today = utcDay(now);
    g.state =
      loaded && loaded.day === today
        ? loaded
        : {
            day: today,
            used: 0,
            recent: [],
            ...(loaded?.blocked_until ? { blocked_until: loaded.blocked_until } : {}),
          };
    g.state.recent = g.state.recent.filter((m) => m + g.windowMs > now);
    if (g.slots !== undefined) {
      const slots = Math.max(0, g.slots - g.state.recent.length);
      g.limiter.updateSettings({ reservoir: slots });
      // the newest `slots` marks give their slot back as they leave the window (older ones are gone by then)
      for (const m of [...g.state.recent].sort((a, b) => a - b).slice(-g.slots)) g.giveBackAt(m + g.windowMs);
    }
    return g;
  }

  /** The persisted form of the state (committed with results, too). */
  serialize(): string {
    return JSON.stringify(this.state);
  }

  /** When no request may go out yet (429 or daily quota), the epoch ms it may; else undefined. */
  blockedUntil(): number | undefined {
    const now = this.o.now();
    const b = this.state.blocked_until;
    if (b !== undefined && b > now) return b;
    if (this.o.quota.per_day !== undefined && this.dayFor(now).used >= this.o.quota.per_day)
      return nextUtcMidnight(now);
    return undefined;
  }

  usedToday(): number {
    return this.dayFor(this.o.now()).used;
  }

  /** Wraps an HTTP client: each request takes a slot and a day unit, never retries by itself, and turns 429/401/403 into errors. */
  http(inner: HttpClient, signal: AbortSignal): HttpClient {
    return { request: (req) => this.request(inner, req, signal) };
  }

  private async request(inner: HttpClient, req: HttpRequest, signal: AbortSignal): Promise<HttpResponse> {
    if (this.closed) throw this.abortError();
    if (this.o.quota.per_minute !== undefined && (await this.limiter.currentReservoir()) === 0)
      this.o.hooks?.quotaWait?.();
    const job = this.limiter.schedule(async () => {
      if (this.closed || signal.aborted) throw this.abortError();
      const start = this.o.now();
      const blocked = this.blockedUntil();
      if (blocked !== undefined) {
        // the slot was not used: give it back now
        if (this.o.quota.per_minute !== undefined) this.limiter.incrementReservoir(1);
        throw this.quotaError(blocked - start, this.state.blocked_until === blocked ? 'blocked' : 'quota_day');
      }
      const day = this.dayFor(start);
      day.used++;
      const slot = day.recent.length;
      day.recent.push(start + this.inflightMs);
      await this.persist();
      this.o.hooks?.request?.();
      try {
        const res = await inner.request({
          ...req,
          idempotent: false,
          okStatuses: [...(req.okStatuses ?? []), 429, 401, 403],
          signal: req.signal ?? signal,
        });
        if (res.status === 429) {
          const now = this.o.now();
          const wait =
            parseRetryAfter(res.headers['retry-after'], now) ??
            resetHeader(res.headers['x-ratelimit-reset'], now) ??
            this.windowMs;
          this.state.blocked_until = now + Math.max(wait, 1000);
          const detail = (await res.text().catch(() => '')).slice(0, 300);
          await this.persist();
          throw this.quotaError(this.state.blocked_until - now, 'status_429', detail);
        }
        if ((res.status === 401 || res.status === 403) && !(req.okStatuses ?? []).includes(res.status)) {
          await res.dump();
          throw new StixgateError(
            'STIXGATE_ERR_HTTP_STATUS',
            `enricher ${this.o.id}: the service refused the credentials (status ${res.status}); check its api_key`,
            { reason: 'auth' },
          );
        }
        return res;
      } finally {
        const done = this.o.now();
        if (day === this.state && day.recent[slot] !== undefined) day.recent[slot] = done;
        if (this.o.quota.per_minute !== undefined) this.giveBackAt(done + this.windowMs);
      }
    });
    return job;
  }

  /** Stops the gate: queued requests fail, timers are cleared. The state should be committed by the caller. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    await this.limiter.stop({ dropWaitingJobs: true }).catch(() => undefined);
  }

  /** Drops marks older than the window (before persisting). */
  private trim(): void {
    const now = this.o.now();
    this.state.recent = this.state.recent.filter((m) => m + this.windowMs > now);
  }

  private async persist(): Promise<void> {
    this.trim();
    await this.o.store.setCursor(quotaCursorName(this.o.id), this.serialize());
  }

  private dayFor(now: number): QuotaState {
    const today = utcDay(now);
    if (this.state.day !== today)
      this.state = {
        day: today,
        used: 0,
        recent: this.state.recent,
        ...(this.state.blocked_until ? { blocked_until: this.state.blocked_until } : {}),
      };
    return this.state;
  }

  private giveBackAt(at: number): void {
    if (this.closed) return;
    const t = this.clock.setTimeout(
      () => {
        this.timers.delete(t);
        if (!this.closed) this.limiter.incrementReservoir(1);
      },
      Math.max(0, at - this.o.now()),
    );
    // kept referenced: a lookup waiting for its slot keeps the process alive; close() clears them
    this.timers.add(t);
  }

  private quotaError(waitMs: number, reason: string, detail = ''): StixgateError {
    const what =
      reason === 'status_429'
        ? 'the service answered 429'
        : reason === 'quota_day'
          ? 'the daily quota is spent'
          : 'a previous 429 asked to wait';
    return new StixgateError(
      'STIXGATE_ERR_ENRICH_QUOTA',
      `enricher ${this.o.id}: ${what}; next request in ${Math.ceil(Math.max(0, waitMs) / 1000)} s${detail ? ` (${detail.replace(/\s+/g, ' ')})` : ''}`,
      { retryable: true, retryAfterMs: Math.max(0, waitMs), reason },
    );
  }

  private abortError(): StixgateError {
    return new StixgateError('STIXGATE_ERR_JOB_ABORTED', `enricher ${this.o.id}: aborted`, { reason: 'aborted' });
  }
}

/** `X-RateLimit-Reset`: epoch seconds (AbuseIPDB) → ms from now; small values are taken as seconds from now. */
function resetHeader(v: string | undefined, now: number): number | undefined {
  if (!v || !/^\d+$/.test(v.trim())) return undefined;
  const n = Number(v.trim());
  if (n > 1_000_000_000) return Math.max(0, n * 1000 - now);
  return n * 1000;
}
