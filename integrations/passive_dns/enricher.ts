import { deterministicId } from '../../src/core/ids.js';
import { stixTime, type Observable, type StixObject } from '../../src/core/stix.js';
import type { Enricher, EnrichmentResult } from '../../src/enrich/types.js';
import type { SinkRunContext } from '../../src/delivery/types.js';
import { parseJson, probeGet, protocolError, serviceGet } from '../enrich-kit/http.js';
import { observableOf, resolvesTo, sco } from '../enrich-kit/stix.js';
import { NDJSON, cofRow, ndjsonLines, type CofRow } from './cof.js';
import type { PassiveDnsConfig } from './schema.js';

/**
 * CIRCL Passive DNS lookup → STIX. Each A/AAAA record becomes `domain-name resolves-to
 * ipv4-addr/ipv6-addr` and each CNAME `domain-name resolves-to domain-name`, with the SCOs and an
 * `observed-data` (first_observed = time_first, last_observed = time_last, number_observed = count)
 * whose object_refs are the two SCOs and the relationship. Records of other types (NS, MX, TXT, …)
 * are not mapped. The values on the other side of each resolution are the `related` observables.
 * Passive DNS gives no verdict: `maliciousness` stays undefined. Timestamps come from the records.
 */

const SERVICE = 'passive_dns';
const MAX_NUMBER_OBSERVED = 999_999_999;

interface Pair {
  from: Observable;
  to: Observable;
  rrtype: string;
  first: number;
  last: number;
  count: number;
}

/** The (name, target) of a record, whichever side CIRCL printed the address on. */
function sides(r: CofRow, data: string): { from: Observable; to: Observable } | undefined {
  if (r.rrtype === 'A' || r.rrtype === 'AAAA') {
    const types = r.rrtype === 'A' ? (['ipv4-addr'] as const) : (['ipv6-addr'] as const);
    const ipData = observableOf(data, types);
    if (ipData) {
      const name = observableOf(r.rrname, ['domain-name']);
      return name ? { from: name, to: ipData } : undefined;
    }
    // CIRCL's documented example prints the address as rrname and the name as rdata
    const ipName = observableOf(r.rrname, types);
    const name = observableOf(data, ['domain-name']);
    return ipName && name ? { from: name, to: ipName } : undefined;
  }
  if (r.rrtype === 'CNAME') {
    const from = observableOf(r.rrname, ['domain-name']);
    const to = observableOf(data, ['domain-name']);
    return from && to && from.value !== to.value ? { from, to } : undefined;
  }
  return undefined;
}

export function createPassiveDnsEnricher(config: PassiveDnsConfig): Enricher {
  const base = config.url.endsWith('/') ? config.url : `${config.url}/`;
  const authorization = `Basic ${Buffer.from(`${config.username}:${config.password}`, 'utf8').toString('base64')}`;
  return {
    types: ['domain-name', 'ipv4-addr', 'ipv6-addr'],
    async enrich(observable: Observable, ctx: SinkRunContext): Promise<EnrichmentResult | undefined> {
      if (observable.cidr) return undefined; // CIRCL does not answer CIDR queries
      const req = {
        service: SERVICE,
        url: new URL(encodeURIComponent(observable.value), base).href,
        headers: { authorization },
        accept: [NDJSON, 'application/json', 'application/jsonl'],
        defaultRetryAfterMs: 60_000,
      };
      const res = await serviceGet(ctx, req);
      if (!res) return undefined;
      const rows: CofRow[] = [];
      const tooLong = (line: number) => protocolError(ctx, req, 'a line is longer than 64 KiB', undefined, line);
      for await (const { text, line } of ndjsonLines(res, config.max_records, tooLong)) {
        const v = parseJson(ctx, req, text, line);
        const items = Array.isArray(v) ? v.slice(0, config.max_records) : [v];
        items.forEach((item, i) => {
          const r = cofRow(item, line, Array.isArray(v) ? `$[${i}]` : '$');
          if ('what' in r) throw protocolError(ctx, req, r.what, r.path, r.line);
          rows.push(r);
        });
        if (rows.length >= config.max_records) break;
      }
      return mapPassiveDns(observable, rows);
    },
    async probe(ctx: SinkRunContext): Promise<string> {
      // a query for a documentation domain (RFC 2606): CIRCL has no account endpoint
      const req = {
        service: SERVICE,
        url: new URL('example.com', base).href,
        headers: { authorization },
        accept: [NDJSON, 'application/json', 'application/jsonl'],
        defaultRetryAfterMs: 60_000,
      };
      const { summary, res } = await probeGet(ctx, req, 'one query');
      await res?.dump();
      return summary;
    },
  };
}

/** Maps COF rows about `subject`; pure. Undefined when no record maps (no A, AAAA or CNAME). */
export function mapPassiveDns(subject: Observable, rows: CofRow[]): EnrichmentResult | undefined {
  const pairs = new Map<string, Pair>();
  for (const r of rows) {
    for (const data of r.rdata) {
      const s = sides(r, data);
      if (!s) continue;
      const key = `${s.from.value}|${r.rrtype}|${s.to.value}`;
      const p = pairs.get(key);
      if (p) {
        p.first = Math.min(p.first, r.first);
        p.last = Math.max(p.last, r.last);
        p.count += r.count;
      } else pairs.set(key, { ...s, rrtype: r.rrtype, first: r.first, last: r.last, count: r.count });
    }
  }
  if (pairs.size === 0) return undefined;
  const objects: StixObject[] = [];
  const scoIds = new Set<string>();
  const related: Observable[] = [];
  const relatedKeys = new Set([`${subject.type}:${subject.value}`]);
  const addSco = (o: Observable): string => {
    const x = sco(o);
    if (!scoIds.has(x.id)) {
      scoIds.add(x.id);
      objects.push(x);
    }
    const k = `${o.type}:${o.value}`;
    if (!relatedKeys.has(k)) {
      relatedKeys.add(k);
      related.push(o);
    }
    return x.id;
  };
  const sorted = [...pairs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, p] of sorted) {
    const fromId = addSco(p.from);
    const toId = addSco(p.to);
    const first = stixTime(p.first * 1000);
    const last = stixTime(p.last * 1000);
    const rel = resolvesTo(
      fromId,
      toId,
      first,
      last,
      `Passive DNS: ${p.rrtype} record ${p.from.value} → ${p.to.value}`,
    );
    objects.push(rel, {
      type: 'observed-data',
      spec_version: '2.1',
      id: deterministicId('observed-data', `${SERVICE}|${key}`),
      created: first,
      modified: last,
      first_observed: first,
      last_observed: last,
      number_observed: Math.min(MAX_NUMBER_OBSERVED, Math.max(1, p.count)),
      object_refs: [fromId, toId, rel.id],
    });
  }
  return { objects, related };
}
