import { group } from '../../src/core/indexed.js';
import type { IncomingMessage } from 'node:http';
import { NDJSON } from './cof.js';
import { EnrichmentSimulator, type QuotaLimits, type SimResponse } from '../enrich-kit/sim-base.js';

/**
 * A loopback simulator of CIRCL Passive DNS (www.circl.lu/services/passive-dns/): `GET
 * /pdns/query/{value}` with HTTP Basic authentication, answering the records whose `rrname` or
 * `rdata` equals the value as newline-delimited JSON in the Passive DNS Common Output Format
 * (draft-dulaunoy-dnsop-passive-dns-cof: `rrname`, `rrtype`, `rdata`, `time_first`, `time_last`
 * (epoch seconds), `count`). CIRCL's own example prints the numbers as strings; `numbersAsStrings`
 * reproduces that. No record → 200 with an empty body. Missing or wrong credentials → 401 with
 * `WWW-Authenticate: Basic`. CIDR queries are refused (400), as CIRCL documents. CIRCL publishes
 * no quota; the simulator enforces the enricher's default (30 per minute) unless told otherwise.
 */

export interface CofRecord {
  rrname: string;
  rrtype: string;
  rdata: string | string[];
  time_first: number;
  time_last: number;
  count?: number;
  bailiwick?: string;
  sensor_id?: string;
}

/** An address record (A or AAAA by the address) seen `count` times between two epoch seconds. */
export function cofRecord(
  rrname: string,
  rdata: string,
  firstSecs: number,
  lastSecs: number,
  count = 1,
  rrtype?: string,
): CofRecord {
  return {
    rrname,
    rrtype: rrtype ?? (rdata.includes(':') ? 'AAAA' : 'A'),
    rdata,
    time_first: firstSecs,
    time_last: lastSecs,
    count,
  };
}

export interface PassiveDnsSimulatorOptions {
  username: string;
  password: string;
  quota?: QuotaLimits;
  now?: () => number;
  /** Print `count`, `time_first` and `time_last` as strings, as CIRCL's documented example does. */
  numbersAsStrings?: boolean;
}

export class PassiveDnsSimulator extends EnrichmentSimulator {
  readonly records: CofRecord[] = [];
  private readonly auth: string;
  private readonly strings: boolean;

  constructor(opts: PassiveDnsSimulatorOptions) {
    super({ quota: opts.quota ?? { perMinute: 30 }, now: opts.now });
    this.auth = `Basic ${Buffer.from(`${opts.username}:${opts.password}`, 'utf8').toString('base64')}`;
    this.strings = opts.numbersAsStrings ?? false;
  }

  protected errorResponse(status: number): SimResponse {
    const text =
      status === 401
        ? 'Unauthorized'
        : status === 429
          ? 'Too Many Requests'
          : status === 404
            ? 'Not Found'
            : status >= 500
              ? 'Internal Server Error'
              : 'Bad Request';
    return {
      status,
      body: JSON.stringify({ error: text }),
      type: 'application/json',
      ...(status === 401 ? { headers: { 'WWW-Authenticate': 'Basic realm="pdns"' } } : {}),
    };
  }

  protected route(req: IncomingMessage, url: URL): SimResponse {
    if (req.headers.authorization !== this.auth) return this.errorResponse(401);
    const m = /^\/pdns\/query\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) return this.errorResponse(404);
    const q = this.quota.take();
    if (!q.ok) return this.quotaExceeded(q.retryAfterSecs);
    const value = decodeURIComponent(group(m, 1)).toLowerCase();
    if (value.includes('/'))
      return {
        status: 400,
        body: JSON.stringify({ error: 'CIDR block queries are not supported' }),
        type: 'application/json',
      };
    const hits = this.records.filter(
      (r) =>
        r.rrname.toLowerCase().replace(/\.$/, '') === value ||
        (Array.isArray(r.rdata) ? r.rdata : [r.rdata]).some((d) => d.toLowerCase().replace(/\.$/, '') === value),
    );
    const lines = hits.map((r) =>
      JSON.stringify(
        this.strings
          ? { ...r, count: String(r.count ?? 1), time_first: String(r.time_first), time_last: String(r.time_last) }
          : r,
      ),
    );
    return { status: 200, body: lines.length ? `${lines.join('\n')}\n` : '', type: NDJSON };
  }
}
