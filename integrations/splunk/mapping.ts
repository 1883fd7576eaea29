import { isAbsolute, join, resolve } from 'node:path';
import { StixgateError } from '../../src/core/errors.js';
import { OBSERVABLE_TYPES, isObservableType, type ObservableType } from '../../src/core/stix.js';
import { loadSinkMapping, type SinkMapping } from '../../src/delivery/records.js';
import { s, type Issue, type Schema } from '../../src/core/schema.js';
import type { IntegrationContext } from '../../src/pipeline/types.js';
import { isRecord } from '../../src/core/guards.js';

/**
 * The Splunk sinks' sections of a mapping table (mappings/sinks/splunk_*.yaml) next to `fields`:
 * `types` (KV field types), `accelerated_fields`, `routes` (ES collection per observable type) and
 * `indexed_fields` (HEC index-time fields). Checked when the sink is created.
 */

export type KvFieldType = 'number' | 'bool' | 'string' | 'time';
const KV_TYPES: readonly string[] = ['number', 'bool', 'string', 'time'];

export const ES_COLLECTIONS = [
  'ip_intel',
  'file_intel',
  'http_intel',
  'email_intel',
  'user_intel',
  'service_intel',
  'process_intel',
  'registry_intel',
  'certificate_intel',
] as const;

export interface EsRoute {
  collection: (typeof ES_COLLECTIONS)[number];
  /** The collection field that holds the observable value. */
  field: string;
}

const bad = (path: string, msg: string): StixgateError =>
  new StixgateError('STIXGATE_ERR_CONFIG_INVALID', `sink mapping ${path}: ${msg}`);

const KV_TYPE = s.enum(['number', 'bool', 'string', 'time'] as const);
const types = s.record(KV_TYPE, { optional: true, description: 'field → number, bool, string or time' });
const routes = s.object(
  Object.fromEntries(
    OBSERVABLE_TYPES.map((t) => [
      t,
      s.object(
        { collection: s.enum(ES_COLLECTIONS), field: s.string({ minLength: 1, maxLength: 100 }) },
        { optional: true },
      ),
    ]),
  ),
  { description: 'observable type → { collection, field }' },
);
/** The sections each Splunk sink's table may have next to `fields` (names in them are checked by `splunkTableIssues`). */
export const SPLUNK_MAPPING_SECTIONS: Record<string, Record<string, Schema<unknown>>> = {
  splunk_kv: {
    types,
    accelerated_fields: s.record(s.record(s.int({ min: -1, max: 1 })), {
      optional: true,
      description: 'index name → { field: 1 | -1 }',
    }),
  },
  splunk_es: { routes, types },
  splunk_hec: {
    indexed_fields: s.array(s.string({ minLength: 1 }), {
      optional: true,
      description: 'fields also sent as index-time fields',
    }),
  },
};

const fieldNameProblem = (f: string): string | undefined =>
  f === '' || f.includes('.') || f.startsWith('$') || f === '_key' || f === '_user'
    ? `"${f}" cannot be a KV store field name (no ".", no leading "$", not _key or _user)`
    : undefined;

/** What the section schemas cannot say, each located: names that must be fields, KV field names, 1 or -1. */
export function splunkTableIssues(t: Record<string, unknown> & { fields: Record<string, string> }): Issue[] {
  const issues: Issue[] = [];
  for (const f of Object.keys(t.fields)) {
    const p = fieldNameProblem(f);
    if (p) issues.push({ path: `fields.${f}`, message: p });
  }
  const routeFields = Object.values((t.routes ?? {}) as Record<string, { field: string }>).map((r) => r.field);
  for (const [type, r] of Object.entries((t.routes ?? {}) as Record<string, { field: string }>)) {
    const p = fieldNameProblem(r.field);
    if (p) issues.push({ path: `routes.${type}.field`, message: p });
  }
  for (const f of Object.keys((t.types ?? {}) as object)) {
    if (!(f in t.fields) && !routeFields.includes(f))
      issues.push({ path: `types.${f}`, message: `"${f}" is not a field of the table` });
  }
  for (const [n, spec] of Object.entries((t.accelerated_fields ?? {}) as Record<string, Record<string, number>>)) {
    for (const [f, v] of Object.entries(spec))
      if (v === 0) issues.push({ path: `accelerated_fields.${n}.${f}`, message: 'must be 1 or -1' });
  }
  for (const [i, f] of ((t.indexed_fields ?? []) as string[]).entries()) {
    if (!(f in t.fields)) issues.push({ path: `indexed_fields[${i}]`, message: `"${f}" is not a field of the table` });
  }
  return issues;
}

/** The configured table (`mapping:` relative to the config file) or mappings/sinks/<type>.yaml. */
export function loadTable(type: string, mapping: string | undefined, ctx: IntegrationContext): SinkMapping {
  const path = mapping
    ? isAbsolute(mapping)
      ? mapping
      : resolve(ctx.configDir, mapping)
    : join(ctx.mappingsDir, 'sinks', `${type}.yaml`);
  const m = loadSinkMapping(path, SPLUNK_MAPPING_SECTIONS[type], splunkTableIssues);
  for (const f of Object.keys(m.fields)) checkFieldName(m.path, f);
  return m;
}

/** KV store field names: no ".", no leading "$" (MongoDB), `_key`/`_user` are Splunk's. */
export function checkFieldName(path: string, f: string): void {
  if (f === '' || f.includes('.') || f.startsWith('$') || f === '_key' || f === '_user') {
    throw bad(path, `field "${f}" cannot be a KV store field name (no ".", no leading "$", not _key or _user)`);
  }
}

/** `types:` field → number | bool | string | time. Every typed field must be a mapped field. */
export function fieldTypes(m: SinkMapping, extraFields: string[] = []): Record<string, KvFieldType> {
  const t = m.table.types;
  if (t === undefined) return {};
  if (!isRecord(t)) throw bad(m.path, '"types" must map field names to number, bool, string or time');
  const out: Record<string, KvFieldType> = {};
  for (const [f, v] of Object.entries(t)) {
    if (typeof v !== 'string' || !KV_TYPES.includes(v))
      throw bad(m.path, `types.${f}: must be one of ${KV_TYPES.join(', ')}, got ${JSON.stringify(v)}`);
    if (!(f in m.fields) && !extraFields.includes(f))
      throw bad(m.path, `types.${f}: "${f}" is not a field of the table`);
    out[f] = v as KvFieldType;
  }
  return out;
}

/** `accelerated_fields:` name → `{field: 1|-1, …}`, sent as JSON strings when the collection is created. */
export function acceleratedFields(m: SinkMapping): Record<string, string> {
  const a = m.table.accelerated_fields;
  if (a === undefined) return {};
  if (!isRecord(a)) throw bad(m.path, '"accelerated_fields" must map names to {field: 1 | -1}');
  const out: Record<string, string> = {};
  for (const [n, spec] of Object.entries(a)) {
    if (!isRecord(spec) || Object.values(spec).some((x) => x !== 1 && x !== -1))
      throw bad(m.path, `accelerated_fields.${n}: must be a mapping of field names to 1 or -1`);
    out[n] = JSON.stringify(spec);
  }
  return out;
}

/** `routes:` observable type → `{collection, field}` (ES threat-intel collections). */
export function esRoutes(m: SinkMapping): Partial<Record<ObservableType, EsRoute>> {
  const r = m.table.routes;
  if (!isRecord(r)) throw bad(m.path, '"routes" must map observable types to {collection, field}');
  const out: Partial<Record<ObservableType, EsRoute>> = {};
  for (const [type, v] of Object.entries(r)) {
    if (!isObservableType(type))
      throw bad(m.path, `routes.${type}: unknown observable type (known: ${OBSERVABLE_TYPES.join(', ')})`);
    if (!isRecord(v) || typeof v.collection !== 'string' || typeof v.field !== 'string')
      throw bad(m.path, `routes.${type}: must be {collection, field}`);
    if (!(ES_COLLECTIONS as readonly string[]).includes(v.collection))
      throw bad(
        m.path,
        `routes.${type}.collection: "${v.collection}" is not an ES threat-intel collection (${ES_COLLECTIONS.join(', ')})`,
      );
    checkFieldName(m.path, v.field);
    out[type] = { collection: v.collection as EsRoute['collection'], field: v.field };
  }
  return out;
}

/** `indexed_fields:` fields also sent as HEC index-time `fields` (strings or lists of strings). */
export function indexedFields(m: SinkMapping): string[] {
  const f = m.table.indexed_fields;
  if (f === undefined) return [];
  if (!Array.isArray(f) || f.some((x) => typeof x !== 'string' || !(x in m.fields)))
    throw bad(m.path, '"indexed_fields" must list fields of the table');
  return f as string[];
}

/**
 * A document as the KV store should receive it: `time` fields as epoch seconds (from RFC 3339),
 * `number` fields as numbers when they parse, lists as comma-separated text for `string` fields.
 * Values that cannot be converted are sent as they are (the server drops or refuses them).
 */
export function typedDoc(fields: Record<string, unknown>, types: Record<string, KvFieldType>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    const t = types[k];
    if (t === 'time' && typeof v === 'string') {
      const ms = Date.parse(v);
      out[k] = Number.isFinite(ms) ? ms / 1000 : v;
    } else if (t === 'number' && typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)))
      out[k] = Number(v);
    else if (t === 'string' && Array.isArray(v)) out[k] = v.join(',');
    else out[k] = v;
  }
  return out;
}
