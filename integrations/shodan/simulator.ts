import { group } from '../../src/core/indexed.js';
import type { IncomingMessage } from 'node:http';
import { EnrichmentSimulator, type QuotaLimits, type SimResponse } from '../enrich-kit/sim-base.js';

/**
 * A loopback simulator of the Shodan REST API host lookup (developer.shodan.io/api):
 * `GET /shodan/host/{ip}?key=…[&minify=true][&history=true]` answering the host document (`ip_str`,
 * `ports`, `hostnames`, `domains`, `org`, `isp`, `asn`, `os`, `tags`, `last_update`, `data[]` banners;
 * `minify=true` leaves the banners out). Errors are `{"error": "…"}`: 401 for a missing or wrong
 * key, 404 `No information available for that IP.`, 429 past the API's 1 request/second (the rate of
 * the free and membership plans; host lookups use no query credits). Faults, the request log and
 * the quota counter come from EnrichmentSimulator.
 */

export type ShodanHost = Record<string, unknown>;

/** A host document shaped like Shodan's, with one banner per port. */
export function makeShodanHost(
  ip: string,
  opts: {
    ports?: number[];
    hostnames?: string[];
    org?: string;
    isp?: string;
    asn?: string;
    lastUpdate?: string;
    tags?: string[];
    vulns?: string[];
  } = {},
): ShodanHost {
  const ports = opts.ports ?? [22, 80, 443];
  const lastUpdate = opts.lastUpdate ?? '2026-03-01T08:15:30.123456';
  return {
    ip_str: ip,
    ...(ip.includes(':') ? {} : { ip: ip.split('.').reduce((n, o) => n * 256 + Number(o), 0) }),
    ports,
    hostnames: opts.hostnames ?? [],
    domains: [
      ...new Set(
        (opts.hostnames ?? [])
          .filter((h) => /^[a-z0-9.-]+$/i.test(h))
          .map((h) => h.toLowerCase().replace(/\.$/, '').split('.').slice(-2).join('.')),
      ),
    ],
    org: opts.org ?? 'Example Hosting Ltd',
    isp: opts.isp ?? 'Example Hosting Ltd',
    asn: opts.asn ?? 'AS64500',
    os: null,
    tags: opts.tags ?? [],
    ...(opts.vulns ? { vulns: opts.vulns } : {}),
    country_code: 'NL',
    country_name: 'Netherlands',
    city: 'Amsterdam',
    latitude: 52.37403,
    longitude: 4.88969,
    last_update: lastUpdate,
    data: ports.map((port) => ({
      ip_str: ip,
      port,
      transport: 'tcp',
      product: port === 22 ? 'OpenSSH' : port === 80 || port === 443 ? 'nginx' : undefined,
      version: port === 22 ? '8.9p1' : undefined,
      timestamp: lastUpdate,
      hostnames: opts.hostnames ?? [],
      data: port === 22 ? 'SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n' : 'HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\n',
      _shodan: {
        module: port === 443 ? 'https' : port === 80 ? 'http' : 'ssh',
        crawler: '0000000000000000000000000000000000000000',
      },
    })),
  };
}

export interface ShodanSimulatorOptions {
  apiKey: string;
  /** Default: 1 request/second, the API's documented rate. */
  quota?: QuotaLimits;
  now?: () => number;
}

export class ShodanSimulator extends EnrichmentSimulator {
  readonly hosts = new Map<string, ShodanHost>();
  private readonly apiKey: string;

  constructor(opts: ShodanSimulatorOptions) {
    super({ quota: opts.quota ?? { perSecond: 1 }, now: opts.now });
    this.apiKey = opts.apiKey;
  }

  protected errorResponse(status: number): SimResponse {
    const error =
      status === 401
        ? 'Please provide a valid API key'
        : status === 404
          ? 'No information available for that IP.'
          : status === 429
            ? 'Rate limit reached (1/second). Please wait a second before trying again and slow down your API calls.'
            : status >= 500
              ? 'Request timed out or an internal error occurred, please try again later.'
              : 'Invalid request';
    return { status, body: JSON.stringify({ error }), type: 'application/json' };
  }

  protected route(req: IncomingMessage, url: URL): SimResponse {
    const q = url.searchParams;
    if (q.get('key') !== this.apiKey) return this.errorResponse(401);
    if (req.method === 'GET' && url.pathname === '/api-info') {
      // the plan document (no query credit spent; the request rate still applies)
      const q0 = this.quota.take();
      if (!q0.ok) return this.quotaExceeded(q0.retryAfterSecs);
      const limits = { scan_credits: 100, query_credits: 100, monitored_ips: 16 };
      return {
        status: 200,
        body: JSON.stringify({
          scan_credits: 100,
          usage_limits: limits,
          plan: 'dev',
          https: false,
          unlocked: true,
          query_credits: 100,
          monitored_ips: 0,
          unlocked_left: 100,
          telnet: false,
        }),
        type: 'application/json; charset=utf-8',
      };
    }
    const m = /^\/shodan\/host\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !m)
      return { status: 404, body: JSON.stringify({ error: 'Not Found' }), type: 'application/json' };
    const q1 = this.quota.take();
    if (!q1.ok) return this.quotaExceeded(q1.retryAfterSecs);
    const ip = decodeURIComponent(group(m, 1));
    if (!/^[0-9a-fA-F:.]+$/.test(ip))
      return { status: 400, body: JSON.stringify({ error: 'Invalid IP' }), type: 'application/json' };
    const host = this.hosts.get(ip);
    if (!host) return this.errorResponse(404);
    const body =
      q.get('minify') === 'true' ? Object.fromEntries(Object.entries(host).filter(([k]) => k !== 'data')) : host;
    return { status: 200, body: JSON.stringify(body), type: 'application/json; charset=utf-8' };
  }
}
