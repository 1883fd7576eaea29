import { isAbsolute, join, resolve } from 'node:path';
import { StixgateError } from '../../src/core/errors.js';
import { OBSERVABLE_TYPES, isObservableType, type Observable, type ObservableType } from '../../src/core/stix.js';
import { loadSinkMapping } from '../../src/delivery/records.js';
import { s, type Issue, type Schema } from '../../src/core/schema.js';
import type { IntegrationContext } from '../../src/pipeline/types.js';
import { isRecord } from '../../src/core/guards.js';

/**
 * The `xsoar` sink's sections of its mapping table (mappings/sinks/xsoar.yaml) next to `fields`:
 * `indicator_types` and `cidr_types` (observable type → XSOAR indicator type) and `upper_case`
 * (fields sent in upper case). Checked when the sink is created.
 */

export interface XsoarTable {
  path: string;
  fields: Record<string, string>;
  types: Partial<Record<ObservableType, string>>;
  cidrTypes: Partial<Record<ObservableType, string>>;
  upper: Set<string>;
}

const bad = (path: string, msg: string): StixgateError =>
  new StixgateError('STIXGATE_ERR_CONFIG_INVALID', `sink mapping ${path}: ${msg}`);
/** XSOAR field keys: the display name lower-cased without spaces. */
const FIELD_KEY = /^[a-z0-9_]+$/;

function typeTable(path: string, key: string, v: unknown, required: boolean): Partial<Record<ObservableType, string>> {
  if (v === undefined && !required) return {};
  if (!isRecord(v)) throw bad(path, `"${key}" must map observable types to XSOAR indicator types`);
  const out: Partial<Record<ObservableType, string>> = {};
  for (const [t, x] of Object.entries(v)) {
    if (!isObservableType(t))
      throw bad(path, `${key}.${t}: unknown observable type (known: ${OBSERVABLE_TYPES.join(', ')})`);
    if (typeof x !== 'string' || x.trim() === '')
      throw bad(path, `${key}.${t}: must be an XSOAR indicator type name such as IP or Domain`);
    out[t] = x;
  }
  return out;
}

const typeMap = (optional: boolean) =>
  s.object(
    Object.fromEntries(
      OBSERVABLE_TYPES.map((t) => [
        t,
        s.string({
          optional: true,
          minLength: 1,
          maxLength: 100,
          pattern: /\S/,
          patternHint: 'an XSOAR indicator type name such as IP or Domain',
        }),
      ]),
    ),
    {
      optional,
      description: 'observable type → XSOAR indicator type',
    },
  );
/** The sections of the XSOAR table next to `fields`. */
export const XSOAR_MAPPING_SECTIONS: Record<string, Schema<unknown>> = {
  upper_case: s.array(s.string({ minLength: 1 }), { optional: true, description: 'fields sent in upper case' }),
  indicator_types: typeMap(false),
  cidr_types: typeMap(true),
};

/** What the section schemas cannot say, each located: field keys XSOAR accepts, upper-cased names that are fields. */
export function xsoarTableIssues(t: Record<string, unknown> & { fields: Record<string, string> }): Issue[] {
  const issues: Issue[] = [];
  for (const f of Object.keys(t.fields)) {
    if (!FIELD_KEY.test(f))
      issues.push({
        path: `fields.${f}`,
        message: `"${f}" is not an XSOAR field key (the display name lower-cased without spaces, e.g. trafficlightprotocol)`,
      });
  }
  for (const [i, f] of ((t.upper_case ?? []) as string[]).entries()) {
    if (!(f in t.fields)) issues.push({ path: `upper_case[${i}]`, message: `"${f}" is not a field of the table` });
  }
  return issues;
}

/** The configured table (`mapping:` relative to the config file) or mappings/sinks/xsoar.yaml. */
export function loadXsoarTable(mapping: string | undefined, ctx: IntegrationContext): XsoarTable {
  const file = mapping
    ? isAbsolute(mapping)
      ? mapping
      : resolve(ctx.configDir, mapping)
    : join(ctx.mappingsDir, 'sinks', 'xsoar.yaml');
  const m = loadSinkMapping(file, XSOAR_MAPPING_SECTIONS, xsoarTableIssues);
  for (const f of Object.keys(m.fields)) {
    if (!FIELD_KEY.test(f))
      throw bad(
        m.path,
        `field "${f}" is not an XSOAR field key (the display name lower-cased without spaces, e.g. trafficlightprotocol)`,
      );
  }
  const upper = m.table.upper_case ?? [];
  if (!Array.isArray(upper) || upper.some((f) => typeof f !== 'string' || !(f in m.fields)))
    throw bad(m.path, '"upper_case" must list fields of the table');
  return {
    path: m.path,
    fields: m.fields,
    types: typeTable(m.path, 'indicator_types', m.table.indicator_types, true),
    cidrTypes: typeTable(m.path, 'cidr_types', m.table.cidr_types, false),
    upper: new Set(upper as string[]),
  };
}

/** The XSOAR indicator type of an observable, or undefined when the table has none. */
export function indicatorType(t: XsoarTable, o: Observable): string | undefined {
  return (o.cidr ? t.cidrTypes[o.type] : undefined) ?? t.types[o.type];
}

/**
 * The record's mapped fields as XSOAR fields: listed fields upper-cased (strings and lists of
 * strings); empty lists left out (a push never clears tags an analyst or another source set).
 */
export function xsoarFields(t: XsoarTable, fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [f, v] of Object.entries(fields)) {
    if (Array.isArray(v) && v.length === 0) continue;
    if (!t.upper.has(f)) out[f] = v;
    else if (typeof v === 'string') out[f] = v.toUpperCase();
    else if (Array.isArray(v)) out[f] = v.map((x) => (typeof x === 'string' ? x.toUpperCase() : x));
    else out[f] = v;
  }
  return out;
}
