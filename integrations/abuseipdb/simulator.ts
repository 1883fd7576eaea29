import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { LoopbackSimulator, sleep } from '../sim-kit.js';

/**
 * An AbuseIPDB APIv2 simulator on 127.0.0.1, shaped by docs.abuseipdb.com:
 *
 *   GET /api/v2/check?ipAddress=…&maxAgeInDays=1..365[&verbose]   header `Key`, `Accept: application/json`
 *
 * → `{ data: { ipAddress, isPublic, ipVersion, isWhitelisted, abuseConfidenceScore, countryCode,
 * usageType, isp, domain, hostnames, isTor, totalReports, numDistinctUsers, lastReportedAt } }`
 * for every valid address (score 0 and no reports when nobody reported it). Errors have the
 * documented shape `{"errors":[{"detail":…,"status":…}]}`: 401 for a missing or wrong key, 422
 * for a bad parameter, 429 when the daily `check` quota (1,000 on the free plan, per UTC day) is
 * spent. Every answer carries X-RateLimit-Limit and X-RateLimit-Remaining; a 429 adds Retry-After
 * (seconds) and X-RateLimit-Reset (epoch seconds). Refused requests are not counted.
 */

export interface AbuseIpdbSimulatorOptions {
  apiKeys?: string[];
  /** `check` requests per UTC day (default 1,000). */
  perDay?: number;
  now?: () => number;
}

export interface ReportedIp {
  abuseConfidenceScore: number;
  totalReports: number;
  numDistinctUsers?: number;
  countryCode?: string;
  usageType?: string;
  isp?: string;
  domain?: string;
  isTor?: boolean;
  isWhitelisted?: boolean;
  lastReportedAt?: string;
}

export interface AbuseIpdbFault {
  status: number;
  detail?: string;
  body?: string;
  retryAfter?: number;
  delayMs?: number;
  times?: number;
}

export interface AbuseIpdbLoggedRequest {
  path: string;
  at: number;
  status: number;
}

const DAY = 86_400_000;

export class AbuseIpdbSimulator extends LoopbackSimulator<AbuseIpdbFault> {
  readonly reported = new Map<string, ReportedIp>();
  readonly requests: AbuseIpdbLoggedRequest[] = [];
  /** Arrival times of the requests counted against the daily quota. */
  readonly counted: number[] = [];
  quotaRefusals = 0;
  private readonly keys: Set<string>;
  readonly perDay: number;
  private readonly now: () => number;

  constructor(o: AbuseIpdbSimulatorOptions = {}) {
    super();
    this.keys = new Set(o.apiKeys ?? ['test-key']);
    this.perDay = o.perDay ?? 1000;
    this.now = o.now ?? Date.now;
  }

  usedOn(at = this.now()): number {
    const day = Math.floor(at / DAY);
    return this.counted.filter((t) => Math.floor(t / DAY) === day).length;
  }

  protected override async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for await (const _ of req) void _;
    const url = new URL(req.url ?? '/', 'http://x');
    const at = this.now();
    if (url.pathname === '/__sim/quota' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ per_day: this.perDay, used_today: this.usedOn(at), refused: this.quotaRefusals }));
      return;
    }
    const log: AbuseIpdbLoggedRequest = {
      path: url.pathname + url.search.replace(/([?&]key=)[^&]*/i, '$1***'),
      at,
      status: 0,
    };
    this.requests.push(log);
    const remaining = (): number => Math.max(0, this.perDay - this.usedOn(at));
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      log.status = status;
      res.writeHead(status, {
        'content-type': 'application/json',
        'x-ratelimit-limit': String(this.perDay),
        'x-ratelimit-remaining': String(remaining()),
        ...headers,
      });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const error = (status: number, detail: string, headers: Record<string, string> = {}, parameter?: string): void =>
      send(status, { errors: [{ detail, status, ...(parameter ? { source: { parameter } } : {}) }] }, headers);

    const key = req.headers.key ?? url.searchParams.get('key') ?? undefined;
    if (typeof key !== 'string' || !this.keys.has(key)) {
      return error(
        401,
        'Authentication failed. Your API key is either missing, incorrect, or revoked. Note: The APIv2 key differs from the APIv1 key.',
      );
    }
    const fault = this.faultQueue.take();
    if (fault) {
      if (fault.delayMs) await sleep(fault.delayMs);
      const headers: Record<string, string> =
        fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {};
      if (fault.body !== undefined) return send(fault.status, fault.body, headers);
      return error(fault.status, fault.detail ?? 'Internal server error', headers);
    }
    if (req.method !== 'GET' || url.pathname !== '/api/v2/check')
      return error(404, 'The requested resource could not be found.');
    if (this.usedOn(at) >= this.perDay) {
      this.quotaRefusals++;
      const reset = (Math.floor(at / DAY) + 1) * DAY;
      return error(
        429,
        `Daily rate limit of ${this.perDay} requests exceeded for this endpoint. See headers for additional details.`,
        {
          'retry-after': String(Math.ceil((reset - at) / 1000)),
          'x-ratelimit-reset': String(Math.floor(reset / 1000)),
        },
      );
    }
    this.counted.push(at);
    const ip = url.searchParams.get('ipAddress') ?? '';
    if (isIP(ip) === 0) {
      return error(
        422,
        'The ip address must be a valid IPv4 or IPv6 address (e.g. 8.8.8.8 or 2001:4860:4860::8888).',
        {},
        'ipAddress',
      );
    }
    const maxAge = url.searchParams.get('maxAgeInDays');
    if (maxAge !== null && (!/^\d+$/.test(maxAge) || Number(maxAge) < 1 || Number(maxAge) > 365)) {
      return error(422, 'The max age in days must be between 1 and 365.', {}, 'maxAgeInDays');
    }
    const parsed = ipaddr.parse(ip);
    const isPublic = parsed.range() === 'unicast';
    const r = this.reported.get(parsed.toString());
    send(200, {
      data: {
        ipAddress: parsed.toString(),
        isPublic,
        ipVersion: parsed.kind() === 'ipv4' ? 4 : 6,
        isWhitelisted: r?.isWhitelisted ?? false,
        abuseConfidenceScore: r?.abuseConfidenceScore ?? 0,
        countryCode: r?.countryCode ?? null,
        usageType: r?.usageType ?? (isPublic ? 'Data Center/Web Hosting/Transit' : 'Reserved'),
        isp: r?.isp ?? null,
        domain: r?.domain ?? null,
        hostnames: [],
        isTor: r?.isTor ?? false,
        totalReports: r?.totalReports ?? 0,
        numDistinctUsers: r?.numDistinctUsers ?? 0,
        lastReportedAt: r?.lastReportedAt ?? null,
      },
    });
  }
}
