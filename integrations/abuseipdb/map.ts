import { lookupNoteId } from '../../src/enrich/records.js';
import type { EnrichmentResult } from '../../src/enrich/types.js';
import type { Observable, StixObject } from '../../src/core/stix.js';

/**
 * AbuseIPDB `check` answer → enrichment result. Pure. maliciousness = abuseConfidenceScore
 * (0-100, AbuseIPDB's own estimate). An address nobody reported (within maxAgeInDays), a
 * whitelisted or a non-public one gives no opinion: AbuseIPDB's 0 there means "no data", and the
 * score must not read it as "benign".
 */

export interface CheckData {
  ipAddress?: unknown;
  isPublic?: unknown;
  isWhitelisted?: unknown;
  abuseConfidenceScore?: unknown;
  countryCode?: unknown;
  usageType?: unknown;
  isp?: unknown;
  domain?: unknown;
  isTor?: unknown;
  totalReports?: unknown;
  numDistinctUsers?: unknown;
  lastReportedAt?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function mapCheck(
  d: CheckData,
  observable: Observable,
  o: { enricherId: string; maxAgeDays: number },
): EnrichmentResult {
  const score = num(d.abuseConfidenceScore);
  const reports = num(d.totalReports) ?? 0;
  const opinion = score !== undefined && reports > 0 && d.isPublic !== false && d.isWhitelisted !== true;
  const m = opinion ? Math.max(0, Math.min(100, Math.round(score))) : undefined;
  const lines = [
    `AbuseIPDB confidence of abuse: ${score ?? 'unknown'}%`,
    `reports in the last ${o.maxAgeDays} days: ${reports}${num(d.numDistinctUsers) !== undefined ? ` from ${d.numDistinctUsers} users` : ''}`,
  ];
  if (str(d.lastReportedAt)) lines.push(`last reported: ${d.lastReportedAt}`);
  if (str(d.countryCode)) lines.push(`country: ${d.countryCode}`);
  if (str(d.usageType)) lines.push(`usage type: ${d.usageType}`);
  if (str(d.isp)) lines.push(`ISP: ${d.isp}`);
  if (str(d.domain)) lines.push(`domain: ${d.domain}`);
  if (d.isTor === true) lines.push('Tor exit node');
  if (d.isWhitelisted === true) lines.push('whitelisted by AbuseIPDB');
  if (d.isPublic === false) lines.push('not a public address');
  const note: StixObject = {
    type: 'note',
    id: lookupNoteId(o.enricherId, observable),
    abstract: `AbuseIPDB: ${observable.value} abuse confidence ${score ?? 'unknown'}% (${reports} reports)`,
    content: lines.join('\n'),
    object_refs: [],
    external_references: [
      { source_name: 'abuseipdb', url: `https://www.abuseipdb.com/check/${encodeURIComponent(observable.value)}` },
    ],
  };
  return { ...(m !== undefined ? { maliciousness: m } : {}), objects: [note] };
}
