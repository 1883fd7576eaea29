import { objectValueProblem, patternProblem, VALIDITY_POLICY } from './value-gate.js';
import { isSco, type StixObject } from './stix.js';
import { propertyTypeProblem } from './stix-property-types.js';
import { needsObservedDataUpgrade, upgradeObservedData } from './observed-data-upgrade.js';
import { group } from './indexed.js';

/**
 * Per-object STIX checks (required properties, id prefixes, timestamps, patterns, field caps) and the STIX 2.0 → 2.1 upgrade. Each failing object is
 * refused on its own with a bounded reason; the rest of the bundle goes on.
 */

export interface FieldCaps {
  /** Longest `description` (characters). */
  maxDescription: number;
  /** Most `labels`. */
  maxLabels: number;
  /** Longest `pattern` (characters). */
  maxPattern: number;
  /** Longest other string property (characters). */
  maxString: number;
}

export const DEFAULT_CAPS: FieldCaps = {
  maxDescription: 1 << 20,
  maxLabels: 1000,
  maxPattern: 64 * 1024,
  maxString: 1 << 20,
};

/** `scos`: the cyber observables a STIX 2.0 observed-data held in `objects`, now top-level 2.1 SCOs its `object_refs` name. */
export type CheckResult =
  | { ok: true; object: StixObject; upgraded: boolean; scos?: StixObject[] }
  | { ok: false; reason: string; message: string; id?: string };

const TYPE_RE = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*-?$/;
const ID_RE = /^([a-z][a-z0-9-]*)--([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;
const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$/;

const TIMESTAMP_PROPS = [
  'created',
  'modified',
  'valid_from',
  'valid_until',
  'first_seen',
  'last_seen',
  'published',
  'first_observed',
  'last_observed',
  'start_time',
  'stop_time',
];

/** Properties required per type, after the upgrade (STIX 2.1 §4-§7). */
const REQUIRED: Record<string, readonly string[]> = {
  'attack-pattern': ['name'],
  campaign: ['name'],
  'course-of-action': ['name'],
  grouping: ['context', 'object_refs'],
  identity: ['name'],
  incident: ['name'],
  indicator: ['pattern', 'pattern_type', 'valid_from'],
  infrastructure: ['name'],
  'intrusion-set': ['name'],
  malware: ['is_family'],
  'malware-analysis': ['product'],
  note: ['content', 'object_refs'],
  'observed-data': ['first_observed', 'last_observed', 'number_observed'],
  opinion: ['opinion', 'object_refs'],
  report: ['name', 'published', 'object_refs'],
  'threat-actor': ['name'],
  tool: ['name'],
  vulnerability: ['name'],
  relationship: ['relationship_type', 'source_ref', 'target_ref'],
  sighting: ['sighting_of_ref'],
  'marking-definition': [],
};

/** STIX 2.0 `labels` that became typed vocabularies in 2.1. */
const LABELS_TO: Record<string, string> = {
  indicator: 'indicator_types',
  malware: 'malware_types',
  'threat-actor': 'threat_actor_types',
  tool: 'tool_types',
  report: 'report_types',
};

/** Timestamps already found valid (objects of a bundle share theirs); emptied when full. */
const VALID_TIMES_MAX = 1024;
let validTimes = new Set<string>();

export function isStixTimestamp(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  if (validTimes.has(v)) return true;
  if (!checkTimestamp(v)) return false;
  if (validTimes.size >= VALID_TIMES_MAX) validTimes = new Set();
  validTimes.add(v);
  return true;
}

function checkTimestamp(v: string): boolean {
  const m = TIME_RE.exec(v);
  if (!m) return false;
  const y = Number(group(m, 1));
  const mo = Number(group(m, 2));
  const d = Number(group(m, 3));
  const h = Number(group(m, 4));
  const mi = Number(group(m, 5));
  const s = Number(group(m, 6));
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60) return false;
  const dim = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return d <= dim;
}

export function isStixId(v: unknown): boolean {
  return typeof v === 'string' && ID_RE.test(v);
}

/**
 * STIX 2.0 → 2.1, for an object without `spec_version` (2.0 objects carry none; 2.1 SDOs/SROs must):
 * sets `spec_version: "2.1"`; moves `labels` to `indicator_types` / `malware_types` /
 * `threat_actor_types` / `tool_types` / `report_types`; malware gets `is_family: true`;
 * indicators get `pattern_type: "stix"`. Everything else is kept as it is.
 */
export function upgrade20(o: Record<string, unknown>): boolean {
  if (o.spec_version !== undefined || isSco(String(o.type))) return false;
  o.spec_version = '2.1';
  const to = LABELS_TO[String(o.type)];
  if (to && Array.isArray(o.labels) && o[to] === undefined) {
    o[to] = o.labels;
    delete o.labels;
  }
  if (o.type === 'malware' && o.is_family === undefined) o.is_family = true;
  if (o.type === 'indicator' && o.pattern_type === undefined) o.pattern_type = 'stix';
  return true;
}

function bad(reason: string, message: string, id?: string): CheckResult {
  return { ok: false, reason, message, id };
}

/** Validates (and upgrades) one parsed object. */
export function checkObject(value: unknown, caps: FieldCaps = DEFAULT_CAPS): CheckResult {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return bad('not_object', 'element is not a JSON object');
  const o = value as Record<string, unknown>;
  const id = typeof o.id === 'string' ? o.id.slice(0, 120) : undefined;
  if (typeof o.type !== 'string' || o.type === '') return bad('missing_property', 'object has no type', id);
  if (o.type.length > 250 || !TYPE_RE.test(o.type))
    return bad('bad_type', `type ${JSON.stringify(o.type.slice(0, 60))} is not a STIX type name`, id);
  if (o.type === 'bundle') {
    // a document whose `objects` is not a list is read as one object: the bundle itself
    if (o.objects !== undefined && !Array.isArray(o.objects))
      return bad('bad_property', 'bundle objects must be a list of STIX objects', id);
    return bad('nested_bundle', 'a bundle inside a bundle is not supported', id);
  }
  if (o.id === undefined) return bad('missing_property', `${o.type} has no id`);
  const m = typeof o.id === 'string' ? ID_RE.exec(o.id) : null;
  if (!m) return bad('bad_id', `id ${JSON.stringify(String(o.id).slice(0, 120))} is not <type>--<uuid>`, id);
  if (m[1] !== o.type) return bad('id_type_mismatch', `id prefix "${m[1]}" does not match type "${o.type}"`, id);

  if (o.spec_version !== undefined && o.spec_version !== '2.1' && o.spec_version !== '2.0') {
    return bad(
      'bad_spec_version',
      `spec_version ${JSON.stringify(String(o.spec_version).slice(0, 20))} is not 2.0 or 2.1`,
      id,
    );
  }
  if (o.spec_version === '2.0') delete o.spec_version;
  const upgraded = upgrade20(o);
  let scos: StixObject[] | undefined;
  if (needsObservedDataUpgrade(o)) {
    const u = upgradeObservedData(o);
    if (!u.ok) return bad(u.reason, u.message, id);
    scos = [];
    for (const sco of u.scos) {
      const r = checkObject(sco, caps);
      if (!r.ok) return bad(r.reason, `observed-data object ${String(sco.type)} ${String(sco.id)}: ${r.message}`, id);
      scos.push(r.object);
    }
  }

  // field caps: an oversized value refuses its object, and the feed goes on
  if (typeof o.description === 'string' && o.description.length > caps.maxDescription)
    return bad('field_too_large', `description longer than ${caps.maxDescription} characters`, id);
  if (o.labels !== undefined) {
    if (!Array.isArray(o.labels) || o.labels.some((l) => typeof l !== 'string'))
      return bad('bad_property', 'labels must be a list of strings', id);
    if (o.labels.length > caps.maxLabels) return bad('field_too_large', `more than ${caps.maxLabels} labels`, id);
  }
  const typeProblem = propertyTypeProblem(o);
  if (typeProblem) return bad('bad_property', typeProblem, id);
  const keys = Object.keys(o);
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string' && v.length > caps.maxString && k !== 'description')
      return bad('field_too_large', `${k} longer than ${caps.maxString} characters`, id);
    if (Array.isArray(v) && v.length > 100_000) return bad('field_too_large', `${k} has more than 100000 items`, id);
  }

  // timestamps
  for (const p of TIMESTAMP_PROPS) {
    if (o[p] !== undefined && !isStixTimestamp(o[p]))
      return bad(
        'bad_timestamp',
        `${p} ${JSON.stringify(String(o[p]).slice(0, 40))} is not an RFC 3339 UTC timestamp`,
        id,
      );
  }
  const sco = isSco(o.type);
  if (!sco && !o.type.startsWith('x-')) {
    const needs =
      o.type === 'marking-definition' || o.type === 'language-content' || o.type === 'extension-definition'
        ? ['created']
        : ['created', 'modified'];
    for (const p of needs) if (o[p] === undefined) return bad('missing_property', `${o.type} has no ${p}`, id);
  }
  if (
    typeof o.created === 'string' &&
    typeof o.modified === 'string' &&
    Date.parse(o.modified) < Date.parse(o.created)
  ) {
    return bad('bad_timestamp', 'modified is earlier than created', id);
  }
  for (const p of REQUIRED[o.type] ?? [])
    if (o[p] === undefined || o[p] === null) return bad('missing_property', `${o.type} has no ${p}`, id);
  if (
    o.confidence !== undefined &&
    (typeof o.confidence !== 'number' || !Number.isInteger(o.confidence) || o.confidence < 0 || o.confidence > 100)
  ) {
    return bad('bad_property', 'confidence must be an integer from 0 to 100', id);
  }

  // references (spec-defined properties only)
  for (const k of keys) {
    const v = o[k];
    if (k.startsWith('x_')) continue; // custom properties follow their own rules
    if (k.endsWith('_ref') && !isStixId(v)) return bad('bad_ref', `${k} is not a STIX id`, id);
    if (k.endsWith('_refs') && (!Array.isArray(v) || !v.every(isStixId)))
      return bad('bad_ref', `${k} must be a list of STIX ids`, id);
  }

  if (o.type === 'indicator') {
    if (typeof o.pattern !== 'string') return bad('missing_property', 'indicator pattern must be a string', id);
    if (o.pattern.length > caps.maxPattern)
      return bad('field_too_large', `pattern longer than ${caps.maxPattern} characters`, id);
    if (o.pattern_type === 'stix') {
      // parses the pattern (pattern_invalid) and checks every value it compares (the value gate)
      const p = patternProblem(o.pattern, VALIDITY_POLICY);
      if (p) return bad(p.reason, p.message, id);
    }
    if (
      typeof o.valid_until === 'string' &&
      typeof o.valid_from === 'string' &&
      Date.parse(o.valid_until) <= Date.parse(o.valid_from)
    ) {
      return bad('bad_timestamp', 'valid_until is not after valid_from', id);
    }
  }
  if (sco) {
    const v = objectValueProblem(o as StixObject, VALIDITY_POLICY);
    if (v) return bad(v.reason, v.message, id);
  }
  if (o.type === 'malware' && typeof o.is_family !== 'boolean')
    return bad('bad_property', 'malware is_family must be true or false', id);
  if (o.type === 'malware' && o.is_family === true && typeof o.name !== 'string')
    return bad('missing_property', 'a malware family needs a name', id);
  return scos ? { ok: true, object: o as StixObject, upgraded, scos } : { ok: true, object: o as StixObject, upgraded };
}
