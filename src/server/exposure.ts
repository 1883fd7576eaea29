import { isIP } from 'node:net';
import { isRecord } from '../core/guards.js';
import type { Issue } from '../core/schema.js';
import { cidrProblem } from '../core/cidr.js';
import type { ServerConfig } from './schema.js';

/** True for addresses only reachable from this machine: 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return mapped?.[1]?.startsWith('127.') === true;
}

/**
 * Start-up checks of the server settings that one key alone cannot express (paths are YAML paths).
 * A non-loopback listener must say who may call it: at least one API key, or `anonymous_lookup`
 * written out (true: key-less TLP:CLEAR lookups for anyone who reaches the port; false: only the
 * health probes answer until keys are added). `rawServer` is the `server:` mapping as written,
 * before defaults, so that an explicit setting can be told from the default.
 */
export function serverIssues(c: ServerConfig, rawServer: unknown, path = 'server'): Issue[] {
  const issues: Issue[] = [];
  const explicitAnonymous = isRecord(rawServer) && typeof rawServer.anonymous_lookup === 'boolean';
  if (!isLoopbackHost(c.listen_host) && Object.keys(c.api_keys).length === 0 && !explicitAnonymous) {
    issues.push({
      path: `${path}.listen_host`,
      message:
        `"${c.listen_host}" is not a loopback address and no API key is configured: add keys under ${path}.api_keys ` +
        `(\`stixgate hash-key\`), or set ${path}.anonymous_lookup explicitly (true serves TLP:CLEAR lookups to anyone who reaches the port; ` +
        'false answers only /healthz and /readyz until keys are added)',
    });
  }
  const checkNetworks = (list: readonly string[], at: string): void =>
    list.forEach((a, i) => {
      const why = cidrProblem(a);
      if (why) issues.push({ path: `${at}[${i}]`, message: `"${a}" is not an IP address or CIDR: ${why}` });
    });
  checkNetworks(c.trusted_proxies, `${path}.trusted_proxies`);
  for (const [id, k] of Object.entries(c.api_keys)) {
    checkNetworks(k.allowed_networks ?? [], `${path}.api_keys.${id}.allowed_networks`);
    if (k.expires !== undefined && !isRealDate(k.expires))
      issues.push({ path: `${path}.api_keys.${id}.expires`, message: `"${k.expires}" is not a valid date` });
  }
  if (c.headers_timeout_secs > c.request_timeout_secs) {
    issues.push({
      path: `${path}.headers_timeout_secs`,
      message: `must not exceed request_timeout_secs (${c.request_timeout_secs})`,
    });
  }
  return issues;
}

/** What a valid server configuration exposes that an operator should know at every start. */
export function serverWarnings(c: ServerConfig, path = 'server'): string[] {
  const out: string[] = [];
  const exposed = !isLoopbackHost(c.listen_host);
  if (exposed && c.anonymous_lookup)
    out.push(
      `${path}.anonymous_lookup is true on ${c.listen_host}: anyone who reaches the port can look up TLP:CLEAR indicators without a key`,
    );
  if (exposed && c.metrics_public)
    out.push(
      `${path}.metrics_public is true on ${c.listen_host}: anyone who reaches the port can read /metrics (source, sink and job names, error reasons, store sizes)`,
    );
  if (!c.rate_limit.enabled) out.push(`${path}.rate_limit.enabled is false: no request rate limit applies`);
  return out;
}

/** An ISO date (or date-time) whose calendar date exists (V8 reads 2027-02-30 as 2 March). */
function isRealDate(v: string): boolean {
  if (Number.isNaN(Date.parse(v))) return false;
  const [y, m, d] = v.slice(0, 10).split('-').map(Number);
  if (y === undefined || m === undefined || d === undefined) return false;
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}
