import type { Location, Rejection } from '../../src/core/errors.js';
import { deterministicId } from '../../src/core/ids.js';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { normaliseObservable } from '../../src/core/observable.js';
import { parseTlp, TLP_MARKING_BY_LEVEL, type ExternalReference, type StixObject } from '../../src/core/stix.js';
import type { MappedItem } from '../../src/pipeline/types.js';
import { attackPattern, cveVulnerability, httpUrl, malwareFamily, tagLabels } from '../../src/formats/reference-sdo.js';
import { addDays, parseApiTime } from '../../src/formats/api-time.js';
import type { OtxTypeTable } from './types-table.js';

export interface OtxMapEnv {
  now: string;
  validDays?: number;
  source: string;
  table: OtxTypeTable;
}

export interface MappedPulse {
  items: MappedItem[];
  rejections: Rejection[];
  /** The pulse's `modified` (epoch ms), the cursor key. */
  time?: number;
}

const MAX_INDICATORS = 100_000;

function str(v: unknown, max = 100_000): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, max) : undefined;
}

/** `malware_families` / `attack_ids` entries are objects (`{id, display_name, name}`) or plain strings. */
function entries(list: unknown): { id?: string; name?: string }[] {
  if (!Array.isArray(list)) return [];
  return list.slice(0, 1000).map((e) =>
    typeof e === 'string'
      ? { id: e, name: e }
      : e && typeof e === 'object'
        ? {
            id: str('id' in e ? e.id : undefined, 256),
            name:
              str('display_name' in e ? e.display_name : undefined, 256) ?? str('name' in e ? e.name : undefined, 256),
          }
        : {},
  );
}

/**
 * One OTX pulse → a STIX `report` (id from the pulse id) referencing its indicators, the
 * vulnerabilities named by CVE indicators, its malware families and ATT&CK techniques. The pulse's
 * TLP marks the report and its indicators. Pure: time comes from the pulse or `env.now`.
 */
export function mapPulse(pulse: unknown, index: number, env: OtxMapEnv): MappedPulse {
  const location: Location = { source: env.source, index };
  const rejections: Rejection[] = [];
  if (pulse === null || typeof pulse !== 'object' || Array.isArray(pulse))
    return { items: [], rejections: [{ reason: 'not_object', message: 'OTX pulse is not a JSON object', location }] };
  const p = pulse as Record<string, unknown>;
  const pid = str(String(p.id ?? ''), 64);
  if (!pid || !/^[\w-]+$/.test(pid))
    return { items: [], rejections: [{ reason: 'missing_id', message: 'OTX pulse has no id', location }] };
  const loc = { ...location, objectId: `otx:${pid}` };
  // a pulse without `created` takes its `modified`; modified never precedes created (STIX 2.1 §3.2)
  const modifiedAt = parseApiTime(p.modified);
  const created = parseApiTime(p.created) ?? modifiedAt ?? env.now;
  const modified = modifiedAt !== undefined && Date.parse(modifiedAt) >= Date.parse(created) ? modifiedAt : created;
  const tlp = typeof p.tlp === 'string' ? parseTlp(p.tlp) : undefined;
  const markings = tlp ? [TLP_MARKING_BY_LEVEL[tlp]] : undefined;

  const refs = new Map<string, MappedItem>();
  const add = (o: StixObject | undefined, extra: Partial<MappedItem> = {}) => {
    if (o && !refs.has(o.id)) refs.set(o.id, { object: o, ...extra });
  };
  for (const m of entries(p.malware_families)) add(m.name ? malwareFamily(m.name) : undefined);
  for (const a of entries(p.attack_ids)) add(a.id ? attackPattern(a.id, a.name) : undefined);

  const indicators = Array.isArray(p.indicators) ? p.indicators.slice(0, MAX_INDICATORS) : [];
  indicators.forEach((raw, i) => {
    const r = mapIndicator(raw, { ...loc, path: `indicators[${i}]` }, env, created, markings);
    if ('reason' in r) rejections.push(r);
    else add(r.object, r.seenAt === undefined ? {} : { seenAt: r.seenAt });
  });

  const objectRefs = [...refs.keys()];
  if (objectRefs.length === 0) {
    rejections.push({
      reason: 'empty_pulse',
      message: 'OTX pulse has no indicator, malware family or technique that maps to STIX',
      location: loc,
    });
    return { items: [], rejections, time: Date.parse(modified) };
  }
  const ext: ExternalReference[] = [
    { source_name: 'AlienVault OTX', external_id: pid, url: `https://otx.alienvault.com/pulse/${pid}` },
  ];
  const seen = new Set<string>();
  for (const r of Array.isArray(p.references) ? p.references.slice(0, 100) : []) {
    const u = httpUrl(r);
    if (u && !seen.has(u)) {
      seen.add(u);
      ext.push({ source_name: 'otx-reference', url: u });
    }
  }
  const report: StixObject & Record<string, unknown> = {
    type: 'report',
    spec_version: '2.1',
    id: deterministicId('report', `otx:pulse:${pid}`),
    created,
    modified,
    name: str(p.name, 1000) ?? `OTX pulse ${pid}`,
    report_types: ['threat-report'],
    published: created,
    object_refs: objectRefs,
  };
  const description = str(p.description);
  if (description) report.description = description;
  const labels = tagLabels(p.tags);
  if (labels.length) report.labels = labels;
  report.external_references = ext;
  if (markings) report.object_marking_refs = markings;
  const author = str(p.author_name, 256);
  const adversary = str(p.adversary, 256);
  if (author || adversary)
    report.x_otx_pulse = { ...(author ? { author_name: author } : {}), ...(adversary ? { adversary } : {}) };
  return { items: [...refs.values(), { object: report, seenAt: modified }], rejections, time: Date.parse(modified) };
}

/** One entry of a pulse's `indicators`: an indicator (dated by its own `created`), a CVE vulnerability, or a rejection. */
function mapIndicator(
  raw: unknown,
  iloc: Location,
  env: OtxMapEnv,
  created: string,
  markings: string[] | undefined,
): { object: StixObject; seenAt?: string } | Rejection {
  const rec = raw as Record<string, unknown>;
  const type = rec && typeof rec === 'object' ? str(rec.type, 64) : undefined;
  const value = rec && typeof rec === 'object' ? str(rec.indicator, 8192) : undefined;
  if (!type || !value)
    return { reason: 'missing_value', message: 'OTX indicator has no type or value', location: iloc };
  const rule = env.table.types.get(type);
  if (!rule) {
    const unmapped = env.table.unmapped.has(type);
    return {
      reason: unmapped ? 'unmapped_type' : 'unknown_type',
      message: `OTX indicator type ${JSON.stringify(type.slice(0, 40))} is ${unmapped ? 'not mapped to STIX' : 'unknown'}`,
      location: iloc,
    };
  }
  if ('object' in rule) {
    const v = cveVulnerability(value);
    return v
      ? { object: v }
      : { reason: 'bad_cve', message: `${JSON.stringify(value.slice(0, 40))} is not a CVE id`, location: iloc };
  }
  const obsType = rule.observable === 'auto' ? (value.includes(':') ? 'ipv6-addr' : 'ipv4-addr') : rule.observable;
  const n = normaliseObservable(obsType, value);
  if (!n.ok) return { reason: n.reason, message: n.message, location: iloc };
  if (rule.hash && n.observable.hash !== rule.hash)
    return { reason: 'invalid_hash', message: `expected a ${rule.hash} hash`, location: iloc };
  const from = parseApiTime(rec.created) ?? created;
  const expiration = parseApiTime(rec.expiration);
  const desc = [str(rec.title, 1000), str(rec.description, 10_000)].filter(Boolean).join(': ');
  const ind = indicatorFromObservable(n.observable, {
    now: from,
    validFrom: from,
    validUntil: expiration ?? (env.validDays !== undefined ? addDays(from, env.validDays) : undefined),
    description: desc || undefined,
    markingRefs: markings,
  });
  return { object: ind, seenAt: from };
}
