import { observableScoId } from '../../src/core/ids.js';
import type { Observable, StixObject } from '../../src/core/stix.js';
import { lookupNoteId } from '../../src/enrich/records.js';
import type { Enricher, EnrichmentResult } from '../../src/enrich/types.js';
import type { SinkRunContext } from '../../src/delivery/types.js';
import { isRecord, parseJson, probeGet, protocolError, serviceGet } from '../enrich-kit/http.js';
import { observableOf, resolvesTo, sco, serviceNote, timeOr, uniqueObservables } from '../enrich-kit/stix.js';
import type { ShodanConfig } from './schema.js';

/**
 * Shodan host lookup → STIX: a `note` on the IP (open ports, services, host names, organisation,
 * ISP, ASN, tags, CVEs; the same data structured in `x_stixgate_shodan`), a `domain-name` per host
 * name with `domain-name resolves-to ip` relationships, and the host names as `related`
 * observables. Timestamps are the answer's `last_update`. Shodan gives no verdict, except its
 * `malware`/`c2`/`compromised` host tags, which give a maliciousness of 80.
 */

const SERVICE = 'shodan';
const VERDICT_TAGS = new Set(['malware', 'c2', 'compromised']);
const MAX_SERVICES = 200;
const MAX_LIST = 100;

interface Service {
  port: number;
  transport: string;
  product?: string;
  version?: string;
}

function strings(v: unknown, max: number): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.length <= 300).slice(0, max) : [];
}

function optString(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, 300) : undefined;
}

export function createShodanEnricher(config: ShodanConfig): Enricher {
  const base = config.url.endsWith('/') ? config.url : `${config.url}/`;
  return {
    types: ['ipv4-addr', 'ipv6-addr'],
    async enrich(observable: Observable, ctx: SinkRunContext): Promise<EnrichmentResult | undefined> {
      if (observable.cidr) return undefined; // the host API takes single addresses
      const u = new URL(`shodan/host/${encodeURIComponent(observable.value)}`, base);
      u.searchParams.set('key', config.api_key);
      if (config.minify) u.searchParams.set('minify', 'true');
      const req = { service: SERVICE, url: u.href, accept: ['application/json'], defaultRetryAfterMs: 1000 };
      const res = await serviceGet(ctx, req);
      if (!res) return undefined;
      const doc = parseJson(ctx, req, await res.text());
      if (!isRecord(doc)) throw protocolError(ctx, req, 'the host answer is not a JSON object', '$');
      return mapShodanHost(
        observable,
        doc,
        { now: ctx.now, noteId: lookupNoteId(ctx.id, observable), maxHostnames: config.max_hostnames },
        (what, path) => protocolError(ctx, req, what, path),
      );
    },
    async probe(ctx: SinkRunContext): Promise<string> {
      // `GET /api-info` describes the key's plan and spends no query credit
      const u = new URL('api-info', base);
      u.searchParams.set('key', config.api_key);
      const req = { service: SERVICE, url: u.href, accept: ['application/json'], defaultRetryAfterMs: 1000 };
      const { summary, res } = await probeGet(ctx, req, 'no query credit spent');
      if (!res) throw protocolError(ctx, req, 'api-info answered 404');
      const doc = parseJson(ctx, req, await res.text());
      if (!isRecord(doc)) throw protocolError(ctx, req, 'the api-info answer is not a JSON object', '$');
      const plan = typeof doc.plan === 'string' ? doc.plan.slice(0, 40) : 'unknown';
      const credits = typeof doc.query_credits === 'number' ? `, ${doc.query_credits} query credits left` : '';
      return `${summary} (plan ${plan}${credits})`;
    },
  };
}

/** Maps a Shodan host document; pure (time and ids from the input). */
export function mapShodanHost(
  ip: Observable,
  doc: Record<string, unknown>,
  opts: { now: number; noteId: string; maxHostnames: number },
  fail: (what: string, path: string) => Error,
): EnrichmentResult {
  const { now, maxHostnames } = opts;
  if (!Array.isArray(doc.ports)) throw fail('`ports` is missing or not a list', '$.ports');
  const ports: number[] = [];
  doc.ports.forEach((p, i) => {
    if (!Number.isInteger(p) || (p as number) < 0 || (p as number) > 65535)
      throw fail(`port ${JSON.stringify(p)} is not an integer 0-65535`, `$.ports[${i}]`);
    if (!ports.includes(p as number)) ports.push(p as number);
  });
  ports.sort((a, b) => a - b);
  const services: Service[] = [];
  if (Array.isArray(doc.data)) {
    for (const b of doc.data.slice(0, MAX_SERVICES)) {
      if (!isRecord(b) || !Number.isInteger(b.port)) continue;
      const s: Service = { port: b.port as number, transport: optString(b.transport) ?? 'tcp' };
      const product = optString(b.product);
      const version = optString(b.version);
      if (product) s.product = product;
      if (version) s.version = version;
      if (!services.some((x) => x.port === s.port && x.transport === s.transport)) services.push(s);
    }
    services.sort((a, b) => a.port - b.port || a.transport.localeCompare(b.transport));
  }
  const names = uniqueObservables(
    strings(doc.hostnames, 10 * maxHostnames)
      .map((h) => observableOf(h, ['domain-name']))
      .filter((o): o is Observable => o !== undefined),
    maxHostnames,
  );
  const time = timeOr(doc.last_update, now);
  const ipId = observableScoId(ip);
  const tags = strings(doc.tags, MAX_LIST);
  const vulns = Array.isArray(doc.vulns)
    ? strings(doc.vulns, MAX_LIST)
    : isRecord(doc.vulns)
      ? Object.keys(doc.vulns).slice(0, MAX_LIST)
      : [];
  const info = {
    ports,
    ...(services.length ? { services } : {}),
    hostnames: names.map((n) => n.value),
    domains: uniqueObservables(
      strings(doc.domains, 10 * MAX_LIST)
        .map((h) => observableOf(h, ['domain-name']))
        .filter((o): o is Observable => o !== undefined),
      MAX_LIST,
    ).map((o) => o.value),
    ...optional('org', optString(doc.org)),
    ...optional('isp', optString(doc.isp)),
    ...optional('asn', optString(doc.asn)),
    ...optional('os', optString(doc.os)),
    ...optional('country_code', optString(doc.country_code)),
    tags,
    vulns,
    last_update: time,
  };
  const portText = services.length
    ? services
        .map((s) => `${s.port}/${s.transport}${s.product ? ` ${s.product}${s.version ? ` ${s.version}` : ''}` : ''}`)
        .join(', ')
    : ports.join(', ');
  const lines = [
    `Open ports: ${portText || 'none'}`,
    `Host names: ${info.hostnames.join(', ') || 'none'}`,
    ...(info.org ? [`Organisation: ${info.org}`] : []),
    ...(info.isp ? [`ISP: ${info.isp}`] : []),
    ...(info.asn ? [`ASN: ${info.asn}`] : []),
    ...(info.os ? [`OS: ${info.os}`] : []),
    ...(tags.length ? [`Tags: ${tags.join(', ')}`] : []),
    ...(vulns.length ? [`Vulnerabilities: ${vulns.join(', ')}`] : []),
    `Last update: ${time}`,
  ];
  const note = serviceNote(
    opts.noteId,
    SERVICE,
    ipId,
    time,
    `Shodan: ${ip.value} has ${ports.length} open port${ports.length === 1 ? '' : 's'}`,
    lines.join('\n'),
    {
      external_references: [{ source_name: 'shodan', url: `https://www.shodan.io/host/${ip.value}` }],
      x_stixgate_shodan: info,
    },
  );
  const objects: StixObject[] = [sco(ip), note];
  for (const n of names) {
    const d = sco(n);
    objects.push(d, resolvesTo(d.id, ipId, time, time, `Shodan lists ${n.value} as a host name of ${ip.value}`));
  }
  const verdict = tags.some((t) => VERDICT_TAGS.has(t.toLowerCase()));
  return { objects, related: names, ...(verdict ? { maliciousness: 80 } : {}) };
}

function optional<K extends string>(key: K, v: string | undefined): { [P in K]?: string } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: string };
}
