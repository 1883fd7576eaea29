import { at, group } from '../../src/core/indexed.js';
import { errorMessage } from '../../src/core/errors.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackSimulator, simControl, sleep } from '../sim-kit.js';
import { VtData, type VtCollection } from './sim-data.js';

/**
 * A VirusTotal API v3 simulator on 127.0.0.1, shaped by docs.virustotal.com/reference:
 *
 *   GET /api/v3/files/{md5|sha1|sha256}   GET /api/v3/urls/{base64url(url) | sha256(url)}
 *   GET /api/v3/domains/{domain}          GET /api/v3/ip_addresses/{ip}
 *
 * Authentication by the `x-apikey` header (401 AuthenticationRequiredError without it,
 * 401 WrongCredentialsError with an unknown key). Unknown objects answer 404 NotFoundError.
 * Errors have the documented shape `{"error":{"code":…,"message":…}}`. The public API quota is
 * enforced and counted per key: 4 requests in any 60 s window and 500 per UTC day (429
 * QuotaExceededError; refused requests are not counted). Fault injection and inspection are
 * methods, and JSON endpoints under /__sim/ for manual use.
 */

export interface VtSimulatorOptions {
  /** Accepted API keys (default `test-key`). */
  apiKeys?: string[];
  /** Requests per window (default 4, the public API). */
  perMinute?: number;
  /** Requests per UTC day (default 500, the public API). */
  perDay?: number;
  /** The per-minute window (default 60,000 ms; tests shorten it). */
  windowMs?: number;
  now?: () => number;
}

export interface VtFault {
  /** Answer with this status and the error code/message below. */
  status: number;
  code?: string;
  message?: string;
  /** Raw body instead of the error shape (malformed answers). */
  body?: string;
  retryAfter?: number;
  delayMs?: number;
  times?: number;
}

export interface VtLoggedRequest {
  method: string;
  path: string;
  at: number;
  status: number;
  code?: string;
}

const COLLECTIONS = new Set<VtCollection>(['files', 'urls', 'domains', 'ip_addresses']);

export class VirusTotalSimulator extends LoopbackSimulator<VtFault> {
  readonly data = new VtData();
  readonly requests: VtLoggedRequest[] = [];
  /** Arrival times of the requests counted against the quota. */
  readonly counted: number[] = [];
  /** Requests refused because a quota was full. */
  quotaRefusals = 0;
  private readonly keys: Set<string>;
  private readonly perMinute: number;
  private readonly perDay: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(o: VtSimulatorOptions = {}) {
    super();
    this.keys = new Set(o.apiKeys ?? ['test-key']);
    this.perMinute = o.perMinute ?? 4;
    this.perDay = o.perDay ?? 500;
    this.windowMs = o.windowMs ?? 60_000;
    this.now = o.now ?? Date.now;
  }

  /** Requests counted in the UTC day of `at`. */
  usedOn(at = this.now()): number {
    const day = Math.floor(at / 86_400_000);
    return this.counted.filter((t) => Math.floor(t / 86_400_000) === day).length;
  }

  /** Most counted requests within any window (at most `perMinute` by construction; tests check it). */
  maxInWindow(windowMs = this.windowMs): number {
    let best = 0;
    let lo = 0;
    for (let hi = 0; hi < this.counted.length; hi++) {
      while (at(this.counted, hi) - at(this.counted, lo) >= windowMs) lo++;
      best = Math.max(best, hi - lo + 1);
    }
    return best;
  }

  protected override async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) if (chunks.length < 64) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/__sim/')) return this.control(req, url, Buffer.concat(chunks).toString('utf8'), res);
    const at = this.now();
    const log: VtLoggedRequest = { method: req.method ?? 'GET', path: url.pathname, at, status: 0 };
    this.requests.push(log);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      log.status = status;
      if (status >= 400 && typeof body === 'object' && body !== null)
        log.code = (body as { error?: { code?: string } }).error?.code;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const error = (status: number, code: string, message: string, headers: Record<string, string> = {}): void =>
      send(status, { error: { code, message } }, headers);

    const key = req.headers['x-apikey'];
    if (typeof key !== 'string' || key === '')
      return error(401, 'AuthenticationRequiredError', 'X-Apikey header is missing');
    if (!this.keys.has(key)) return error(401, 'WrongCredentialsError', 'Wrong API key');

    const fault = this.faultQueue.take();
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault) {
      const headers: Record<string, string> =
        fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {};
      if (fault.body !== undefined) return send(fault.status, fault.body, headers);
      return error(
        fault.status,
        fault.code ?? 'TransientError',
        fault.message ?? 'Transient server error. Retry might work.',
        headers,
      );
    }

    // the quota: any window of `windowMs` and the UTC day
    const inWindow = this.counted.filter((t) => t > at - this.windowMs).length;
    if (inWindow >= this.perMinute || this.usedOn(at) >= this.perDay) {
      this.quotaRefusals++;
      return error(429, 'QuotaExceededError', 'Quota exceeded');
    }
    this.counted.push(at);

    if (req.method !== 'GET') return error(400, 'BadRequestError', `Method ${req.method} not allowed here`);
    const m = /^\/api\/v3\/([a-z_]+)\/([^/]+)$/.exec(url.pathname);
    if (!m || !COLLECTIONS.has(m[1] as VtCollection))
      return error(404, 'NotFoundError', `Resource not found: ${url.pathname}`);
    const collection = m[1] as VtCollection;
    const id = decodeURIComponent(group(m, 2));
    const obj = this.data.get(collection, id);
    if (!obj) {
      const what = { files: 'File', urls: 'URL', domains: 'Domain', ip_addresses: 'IP address' }[collection];
      return error(404, 'NotFoundError', `${what} "${id}" not found`);
    }
    send(200, { data: obj });
  }

  /** GET /__sim/requests, GET /__sim/quota, POST /__sim/faults (a VtFault), POST /__sim/reset-faults. */
  private control(req: IncomingMessage, url: URL, body: string, res: ServerResponse): void {
    const r = simControl(req.method ?? 'GET', url.pathname, body, {
      requests: this.requests,
      clearFaults: () => this.clearFaults(),
      quota: () => ({
        per_minute: this.perMinute,
        per_day: this.perDay,
        used_today: this.usedOn(),
        max_in_window: this.maxInWindow(),
        refused: this.quotaRefusals,
      }),
      inject: (text) => {
        try {
          const f = JSON.parse(text) as VtFault;
          if (typeof f.status !== 'number') throw new Error('status must be a number');
          this.inject(f);
          return { status: 200, value: { ok: true } };
        } catch (e) {
          return { status: 400, value: { error: { code: 'BadRequestError', message: errorMessage(e) } } };
        }
      },
      notFound: { error: { code: 'NotFoundError', message: 'unknown simulator endpoint' } },
    });
    res.writeHead(r.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(r.value));
  }
}
