import { cidrContains, cidrProblem, formatCidr, parseCidr, type Cidr } from '../core/cidr.js';
import { canonicalize } from '../core/canonical-json.js';
import { objectObservables } from '../core/object-observables.js';
import { detectObservable } from '../core/observable.js';
import { isTlpLevel, TLP_LEVELS, type StixObject, type TlpLevel } from '../core/stix.js';
import { viewTlp, type AccessPolicy } from '../access/policy.js';
import type { Query } from '../store/contract.js';

/**
 * The filters of a search or an export (docs/api.md), applied to the reader's view of each object:
 * the sources, labels, score and TLP a filter compares are the ones the reader sees, so a filter
 * never matches on a contribution above the reader's ceiling.
 */

export const OBJECT_STATES = ['active', 'expired', 'revoked'] as const;
export type ObjectState = (typeof OBJECT_STATES)[number];

export interface SearchFilter {
  /** STIX types (any of). */
  types?: string[];
  /** A canonical observable value the object stands for (an indicator's pattern or an SCO's value). */
  value?: string;
  /** An IPv4/IPv6 range: objects standing for an address or a range inside it. */
  cidr?: string;
  /** A source the reader sees among the object's contributions. */
  source?: string;
  /** A label of the reader's view, or of a contribution it sees. */
  label?: string;
  /** Score range of the reader's view, inclusive (objects without a score never match a range). */
  minScore?: number;
  maxScore?: number;
  /** The view's TLP is one of these. */
  tlp?: TlpLevel[];
  /** `modified` at or after this instant (RFC 3339). */
  modifiedSince?: string;
  /** Object states (default: active only). */
  states: ObjectState[];
}

/** The raw filter as a query string or CLI flags give it (comma lists as strings). */
export interface RawFilter {
  type?: string;
  value?: string;
  cidr?: string;
  source?: string;
  label?: string;
  min_score?: number | string;
  max_score?: number | string;
  tlp?: string;
  modified_since?: string;
  state?: string;
}

export type FilterResult = { ok: true; filter: SearchFilter } | { ok: false; field: string; message: string };

const TYPE_RE = /^[a-z][a-z0-9-]{0,62}$/;

function list(v: string | undefined): string[] | undefined {
  if (v === undefined || v === '') return undefined;
  return [
    ...new Set(
      v
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== ''),
    ),
  ];
}

function score(v: number | string | undefined, field: string): number | undefined | string {
  if (v === undefined || v === '') return undefined;
  const n = typeof v === 'number' ? v : /^\d{1,3}$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 100) return `${field} must be an integer from 0 to 100`;
  return n;
}

/** Checks and canonicalises a raw filter: values through the observable rules, ranges as networks. */
export function parseFilter(raw: RawFilter): FilterResult {
  const f: SearchFilter = { states: ['active'] };
  const bad = (field: string, message: string): FilterResult => ({ ok: false, field, message });
  const types = list(raw.type);
  if (types) {
    const wrong = types.find((t) => !TYPE_RE.test(t));
    if (wrong !== undefined) return bad('type', 'type must be STIX type names separated by commas');
    f.types = types.sort();
  }
  if (raw.value !== undefined && raw.value !== '') {
    const d = detectObservable(raw.value);
    if (!d.ok) return bad('value', `value is not an observable stixgate recognises (${d.reason})`);
    f.value = d.observable.value;
  }
  if (raw.cidr !== undefined && raw.cidr !== '') {
    const c = parseCidr(raw.cidr);
    if (!c) return bad('cidr', `cidr must be an IPv4 or IPv6 address or CIDR: ${cidrProblem(raw.cidr)}`);
    f.cidr = formatCidr(c);
  }
  if (raw.source !== undefined && raw.source !== '') f.source = raw.source;
  if (raw.label !== undefined && raw.label !== '') f.label = raw.label;
  for (const [k, field] of [
    ['minScore', 'min_score'],
    ['maxScore', 'max_score'],
  ] as const) {
    const s = score(raw[field], field);
    if (typeof s === 'string') return bad(field, s);
    if (s !== undefined) f[k] = s;
  }
  if (f.minScore !== undefined && f.maxScore !== undefined && f.minScore > f.maxScore)
    return bad('min_score', 'min_score is above max_score');
  const tlp = list(raw.tlp?.toLowerCase());
  if (tlp) {
    const levels = tlp.filter(isTlpLevel);
    if (levels.length !== tlp.length) return bad('tlp', `tlp must be among ${TLP_LEVELS.join(', ')}`);
    f.tlp = levels.sort((a, b) => TLP_LEVELS.indexOf(a) - TLP_LEVELS.indexOf(b));
  }
  if (raw.modified_since !== undefined && raw.modified_since !== '') {
    const t = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(raw.modified_since)
      ? Date.parse(raw.modified_since)
      : NaN;
    if (Number.isNaN(t))
      return bad('modified_since', 'modified_since must be an RFC 3339 date or date-time with a time zone');
    f.modifiedSince = new Date(t).toISOString();
  }
  const states = list(raw.state);
  if (states) {
    const wrong = states.find((s) => !(OBJECT_STATES as readonly string[]).includes(s));
    if (wrong !== undefined) return bad('state', `state must be among ${OBJECT_STATES.join(', ')}`);
    f.states = (states as ObjectState[]).sort((a, b) => OBJECT_STATES.indexOf(a) - OBJECT_STATES.indexOf(b));
  }
  return { ok: true, filter: f };
}

/** A digest of the filter: a cursor is valid only for the filter (and reader) it was made for. */
export function filterKey(f: SearchFilter): string {
  return canonicalize(f);
}

/** What the store can narrow by itself; the rest is checked on each view (`matches`). */
export function storeQuery(f: SearchFilter): Query {
  const q: Query = { includeRevoked: f.states.includes('revoked') };
  if (f.types?.length === 1) q.type = f.types[0];
  if (f.value !== undefined) q.value = f.value;
  if (f.source !== undefined) q.source = f.source;
  if (f.modifiedSince !== undefined) q.modifiedFrom = f.modifiedSince;
  return q;
}

export function stateOf(obj: StixObject): ObjectState {
  if (obj.revoked === true) return 'revoked';
  return obj.x_stixgate?.expired === true ? 'expired' : 'active';
}

/** True when the reader's view of an object passes every filter. */
export function matches(view: StixObject, f: SearchFilter, ceiling: TlpLevel, policy: AccessPolicy): boolean {
  if (!f.states.includes(stateOf(view))) return false;
  if (f.types && !f.types.includes(view.type)) return false;
  if (
    f.modifiedSince !== undefined &&
    !(typeof view.modified === 'string' && Date.parse(view.modified) >= Date.parse(f.modifiedSince))
  )
    return false;
  const sources = view.x_stixgate?.sources ?? {};
  if (f.source !== undefined && !Object.hasOwn(sources, f.source)) return false;
  if (f.label !== undefined && !hasLabel(view, f.label)) return false;
  if (f.minScore !== undefined || f.maxScore !== undefined) {
    const s = view.x_stixgate?.score;
    if (typeof s !== 'number') return false;
    if (f.minScore !== undefined && s < f.minScore) return false;
    if (f.maxScore !== undefined && s > f.maxScore) return false;
  }
  if (f.tlp) {
    const t = viewTlp(view, ceiling, policy);
    if (t === undefined || !f.tlp.includes(t)) return false;
  }
  if (f.value !== undefined || f.cidr !== undefined) {
    const obs = objectObservables(view);
    if (f.value !== undefined && !obs.some((o) => o.value === f.value)) return false;
    const range = f.cidr === undefined ? undefined : parseCidr(f.cidr);
    if (range && !obs.some((o) => (o.type === 'ipv4-addr' || o.type === 'ipv6-addr') && inRange(o.value, range)))
      return false;
  }
  return true;
}

/** The view's own labels, or those any contribution in the view gave (the ones the reader sees). */
function hasLabel(view: StixObject, label: string): boolean {
  if (Array.isArray(view.labels) && view.labels.includes(label)) return true;
  const sources = view.x_stixgate?.sources ?? {};
  return Object.values(sources).some((p) => p.labels?.includes(label) === true);
}

/** True when an address or range value lies inside `range`. */
function inRange(value: string, range: Cidr): boolean {
  const c = parseCidr(value);
  return c !== undefined && cidrContains(range, c);
}
