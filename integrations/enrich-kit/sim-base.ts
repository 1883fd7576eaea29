import { errorMessage } from '../../src/core/errors.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackSimulator, logBounded, readBody, simControl, sleep } from '../sim-kit.js';

/**
 * What the enrichment-service simulators (Shodan, RDAP, passive DNS) share: a node:http server on
 * 127.0.0.1, scripted faults, a request log, a quota counter with fixed UTC windows, and a JSON
 * control API under /__sim/ for `stixgate simulate` users. Each service supplies its routes and the
 * error body its documentation shows.
 */

export interface SimFault {
  /** Answer with this status instead of handling the request (default 200 when `body` is set). */
  status?: number;
  /** Retry-After header (seconds) sent with the answer. */
  retryAfter?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Requests the fault applies to (default 1). */
  times?: number;
  /** Raw body instead of the service's error body (malformed JSON, oversize answers). */
  body?: string;
  /** Content type of the fault answer (default the service's own). */
  contentType?: string;
}

export interface SimLoggedRequest {
  method: string;
  /** Path with the query; credentials in the query (`key=`) replaced by `***`. */
  path: string;
  /** The authorization scheme used (`Basic`, …) or ''. */
  auth: string;
  status: number;
  /** Simulator clock (epoch ms). */
  at: number;
}

export interface SimResponse {
  status: number;
  body: string;
  type: string;
  headers?: Record<string, string>;
}

/** Limits per fixed window; unset windows are unlimited. */
export interface QuotaLimits {
  perSecond?: number;
  perMinute?: number;
  perDay?: number;
}

const WINDOWS = [
  ['perSecond', 1000],
  ['perMinute', 60_000],
  ['perDay', 86_400_000],
] as const;

/** Counts accepted requests per fixed UTC window (second, minute, day) and refuses past the limits. */
export class QuotaCounter {
  private readonly used = new Map<string, { window: number; count: number }>();
  /** Requests refused for quota since the start. */
  refused = 0;

  constructor(
    readonly limits: QuotaLimits,
    private readonly now: () => number,
  ) {}

  /** Takes one request; returns the seconds to wait when a window is full. */
  take(): { ok: true } | { ok: false; retryAfterSecs: number; window: keyof QuotaLimits } {
    const t = this.now();
    for (const [name, ms] of WINDOWS) {
      const limit = this.limits[name];
      if (limit === undefined) continue;
      const w = Math.floor(t / ms);
      const u = this.used.get(name);
      const count = u && u.window === w ? u.count : 0;
      if (count >= limit) {
        this.refused++;
        return { ok: false, retryAfterSecs: Math.max(1, Math.ceil(((w + 1) * ms - t) / 1000)), window: name };
      }
    }
    for (const [name, ms] of WINDOWS) {
      if (this.limits[name] === undefined) continue;
      const w = Math.floor(t / ms);
      const u = this.used.get(name);
      this.used.set(name, { window: w, count: u && u.window === w ? u.count + 1 : 1 });
    }
    return { ok: true };
  }

  /** Requests counted in the current windows. */
  counts(): Record<string, number> {
    const t = this.now();
    const out: Record<string, number> = { refused: this.refused };
    for (const [name, ms] of WINDOWS) {
      const u = this.used.get(name);
      if (this.limits[name] !== undefined) out[name] = u && u.window === Math.floor(t / ms) ? u.count : 0;
    }
    return out;
  }
}

const MAX_LOG = 10_000;

export abstract class EnrichmentSimulator extends LoopbackSimulator<SimFault> {
  readonly requests: SimLoggedRequest[] = [];
  readonly quota: QuotaCounter;
  protected readonly now: () => number;
  base = '';

  constructor(opts: { quota: QuotaLimits; now?: () => number }) {
    super();
    this.now = opts.now ?? Date.now;
    this.quota = new QuotaCounter(opts.quota, this.now);
  }

  /** The service's own error answer for a status (its documented shape). */
  protected abstract errorResponse(status: number): SimResponse;
  /** Handles a request that no fault replaced. */
  protected abstract route(req: IncomingMessage, url: URL): SimResponse;

  override async start(): Promise<this> {
    this.base = (await super.start()).base;
    return this;
  }

  /** A 429 answer for a full quota window, in the service's error shape, with Retry-After. */
  protected quotaExceeded(retryAfterSecs: number): SimResponse {
    const r = this.errorResponse(429);
    return { ...r, headers: { ...(r.headers ?? {}), 'Retry-After': String(retryAfterSecs) } };
  }

  protected override async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: string;
    try {
      body = (await readBody(req, 65_536)).raw.toString('utf8');
    } catch {
      return; // the client went away before the body ended
    }
    const url = new URL(req.url ?? '/', 'http://sim');
    if (url.pathname.startsWith('/__sim/')) return this.send(res, this.simApi(req.method ?? 'GET', url.pathname, body));
    const search = url.search.replace(/([?&]key=)[^&]*/g, '$1***');
    const log: SimLoggedRequest = {
      method: req.method ?? 'GET',
      path: `${url.pathname}${search}`,
      auth: (req.headers.authorization ?? '').split(' ')[0] ?? '',
      status: 0,
      at: this.now(),
    };
    logBounded(this.requests, log, MAX_LOG);
    const fault = this.faultQueue.take();
    if (fault?.delayMs) await sleep(fault.delayMs);
    let r: SimResponse;
    if (fault && (fault.status !== undefined || fault.body !== undefined)) {
      const status = fault.status ?? 200;
      const base =
        fault.body !== undefined ? { status, body: fault.body, type: 'application/json' } : this.errorResponse(status);
      r = { ...base, status, type: fault.contentType ?? base.type };
      if (fault.retryAfter !== undefined) r.headers = { ...(r.headers ?? {}), 'Retry-After': String(fault.retryAfter) };
    } else {
      try {
        r = this.route(req, url);
      } catch (e) {
        r = { ...this.errorResponse(500), body: JSON.stringify({ error: `simulator error: ${errorMessage(e)}` }) };
      }
    }
    log.status = r.status;
    this.send(res, r);
  }

  private send(res: ServerResponse, r: SimResponse): void {
    if (res.destroyed) return;
    res.writeHead(r.status, { 'Content-Type': r.type, ...(r.headers ?? {}) });
    res.end(r.body);
  }

  /** GET /__sim/requests, GET /__sim/quota, POST /__sim/faults (a SimFault as JSON), POST /__sim/reset-faults. */
  private simApi(method: string, path: string, body: string): SimResponse {
    const r = simControl(method, path, body, {
      requests: this.requests,
      clearFaults: () => this.clearFaults(),
      quota: () => ({ limits: this.quota.limits, used: this.quota.counts() }),
      inject: (text) => {
        let f: SimFault;
        try {
          f = JSON.parse(text) as SimFault;
        } catch {
          return { status: 400, value: { error: 'body is not valid JSON' } };
        }
        if (typeof f !== 'object' || f === null || Array.isArray(f))
          return { status: 400, value: { error: 'body must be a JSON object (a fault)' } };
        this.inject(f);
        return { status: 200, value: { ok: true, pending: this.faultQueue.size } };
      },
    });
    return { status: r.status, body: JSON.stringify(r.value), type: 'application/json' };
  }
}
