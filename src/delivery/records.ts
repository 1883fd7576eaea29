import type { Observable, StixObject, TlpLevel } from '../core/stix.js';
import { indicatorObservables } from '../core/object-observables.js';
import { StixgateError } from '../core/errors.js';
import { s, validate, type Issue, type Schema } from '../core/schema.js';
import { describeIssues, loadYamlTable, TABLE_KEY } from '../core/yaml-document.js';
import { isFormulaLike, neutraliseFormula, neutraliseValue } from '../core/formula-safe.js';
import type { SinkRecord } from './types.js';
import { isRecord } from '../core/guards.js';
import { ledgerRecordKey } from '../store/ledger.js';

/**
 * Sink records and mapping tables.
 *
 * A mapping table (mappings/sinks/<type>.yaml) names the remote fields and the record attribute
 * each one takes:
 *
 *   fields:
 *     indicator: value
 *     threat_score: score
 *     description: "=stixgate"      # a leading "=" is a constant
 *
 * Attributes: see ATTRIBUTES below. Unknown attributes are refused when the table is loaded.
 */

export type AttributeName = keyof typeof ATTRIBUTES;

type Getter = (r: Omit<SinkRecord, 'fields'>) => unknown;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Record attributes a mapping table may name. */
export const ATTRIBUTES = {
  value: (r) => r.observable.value,
  type: (r) => r.observable.type,
  hash_algorithm: (r) => r.observable.hash,
  key: (r) => r.key,
  stix_id: (r) => r.object.id,
  name: (r) => str(r.object.name),
  description: (r) => str(r.object.description),
  pattern: (r) => str(r.object.pattern),
  indicator_types: (r) => (Array.isArray(r.object.indicator_types) ? r.object.indicator_types : undefined),
  score: (r) => r.score ?? undefined,
  confidence: (r) => r.object.confidence,
  tlp: (r) => r.tlp,
  labels: (r) => r.labels,
  labels_csv: (r) => (r.labels.length ? r.labels.map(neutraliseFormula).join(',') : undefined),
  sources: (r) => r.sources,
  sources_csv: (r) => r.sources.map(neutraliseFormula).join(','),
  valid_from: (r) => str(r.object.valid_from),
  valid_until: (r) => str(r.object.valid_until),
  first_seen: (r) => firstSeen(r.object),
  last_seen: (r) => lastSeen(r.object),
  created: (r) => r.object.created,
  modified: (r) => r.object.modified,
  revoked: (r) => r.object.revoked === true,
  kill_chain_phases: (r) =>
    Array.isArray(r.object.kill_chain_phases)
      ? r.object.kill_chain_phases.flatMap((k) =>
          isRecord(k) && typeof k.phase_name === 'string' ? [k.phase_name] : [],
        )
      : undefined,
} satisfies Record<string, Getter>;

export interface SinkMapping {
  /** Remote field → attribute name or `=constant`. */
  fields: Record<string, string>;
  /** The whole parsed table, for sinks that keep routing sections next to `fields`. */
  table: Record<string, unknown>;
  path: string;
}

const FIELDS = s.record(s.string({ minLength: 1, maxLength: 1000 }), {
  keyPattern: TABLE_KEY,
  description: 'remote field → record attribute or "=constant"',
});

/**
 * The schema of a sink mapping table: `fields` and the sink's own sections. Without `sections`,
 * any other top-level key is passed through to the sink unchecked.
 */
/** A sink mapping table as validated: its `fields` and the sink's own sections. */
type SinkTable = Record<string, unknown> & { fields: Record<string, string> };

function sinkTableSchema(raw: unknown, sections?: Record<string, Schema<unknown>>): Schema<SinkTable> {
  const others = isRecord(raw) ? Object.keys(raw).filter((k) => k !== 'fields') : [];
  return s.object({
    fields: FIELDS,
    ...(sections ?? Object.fromEntries(others.map((k) => [k, s.any({ optional: true })]))),
  });
}

/** True when `name` is a record attribute a mapping table may name. */
export function isAttributeName(name: string): name is AttributeName {
  return Object.hasOwn(ATTRIBUTES, name);
}

function attributeIssues(t: { fields: Record<string, string> }): Issue[] {
  return Object.entries(t.fields)
    .filter(([, attr]) => !attr.startsWith('=') && !(attr in ATTRIBUTES))
    .map(([field, attr]) => ({
      path: `fields.${field}`,
      message: `unknown attribute ${JSON.stringify(attr)} (known: ${Object.keys(ATTRIBUTES).join(', ')}, or "=constant")`,
    }));
}

/**
 * Reads a sink mapping table through the hardened YAML loader; `sections` are the sink's own
 * top-level keys, `check` what their schema cannot say (a name that must be a field of the table).
 * Every problem is reported with its line.
 */
export function loadSinkMapping(
  path: string,
  sections?: Record<string, Schema<unknown>>,
  check?: (table: SinkTable) => Issue[],
): SinkMapping {
  const table = loadYamlTable(path, (raw) => sinkTableSchema(raw, sections), {
    what: 'sink mapping table',
    check: (t) => [...attributeIssues(t), ...(check?.(t) ?? [])],
  });
  return { fields: table.fields, table, path };
}

/** Checks a table given as a value (tests, inline tables). */
export function checkSinkMapping(table: unknown, path: string): SinkMapping {
  const r = validate(sinkTableSchema(table), table);
  const issues = r.ok ? attributeIssues(r.value) : r.issues;
  if (!r.ok || issues.length)
    throw new StixgateError(
      'STIXGATE_ERR_CONFIG_INVALID',
      `sink mapping table ${path} is invalid:\n${describeIssues(issues)}`,
    );
  return { fields: r.value.fields, table: r.value, path };
}

/**
 * Applies a mapping table to a record. Pure. Every string an attribute yields (also inside a
 * list) is formula-neutralised (src/core/formula-safe.ts): the remote systems' documents end up
 * in spreadsheets when analysts export them. Table constants are configuration and kept as written.
 */
export function mapFields(mapping: Record<string, string>, r: Omit<SinkRecord, 'fields'>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, attr] of Object.entries(mapping)) {
    // an attribute name the table check did not know yields nothing (loadSinkMapping refuses such tables)
    const v = attr.startsWith('=')
      ? attr.slice(1)
      : isAttributeName(attr)
        ? neutraliseValue(ATTRIBUTES[attr](r))
        : undefined;
    if (v !== undefined && v !== null) out[field] = v;
  }
  return out;
}

/** The deterministic remote key of an observable: SHA-1 hex of `<type>:<canonical value>`. */
export function recordKey(o: Observable): string {
  return ledgerRecordKey(o.type, o.value);
}

export function sourcesOf(obj: StixObject): string[] {
  return Object.keys(obj.x_stixgate?.sources ?? {}).sort();
}

export function labelsOf(obj: StixObject): string[] {
  return Array.isArray(obj.labels) ? obj.labels.filter((l): l is string => typeof l === 'string') : [];
}

function firstSeen(obj: StixObject): string | undefined {
  let min: string | undefined;
  for (const p of Object.values(obj.x_stixgate?.sources ?? {})) if (!min || p.first_seen < min) min = p.first_seen;
  return min;
}

function lastSeen(obj: StixObject): string | undefined {
  let max: string | undefined;
  for (const p of Object.values(obj.x_stixgate?.sources ?? {})) if (!max || p.last_seen > max) max = p.last_seen;
  return max;
}

/** What the filters and the records read from an object's view, computed once per state. */
export interface ObjectFacts {
  /** The view's TLP (src/access: the strictest contribution the sink sees). */
  tlp: TlpLevel;
  labels: string[];
  sources: string[];
  score: number | null;
}

/** The facts of a view (src/access/view.ts) under its TLP. */
export function factsOf(view: StixObject, tlp: TlpLevel): ObjectFacts {
  return {
    tlp,
    labels: labelsOf(view),
    sources: sourcesOf(view),
    score: typeof view.x_stixgate?.score === 'number' ? view.x_stixgate.score : null,
  };
}

/**
 * Builds the records of one object state, from the view the sink may receive (`obj` is that
 * view; src/pipeline/sink-records-select.ts makes it). Pure. The record's key comes from the
 * canonical value; the value a sink sends is formula-neutralised like every other field (only an
 * e-mail local part or a domain label can start with `-`, `+`, `=`; the store keeps the value
 * verbatim).
 */
export function recordsFor(
  obj: StixObject,
  seq: number,
  op: 'upsert' | 'remove',
  reason: string | undefined,
  mapping: Record<string, string>,
  facts: ObjectFacts,
): SinkRecord[] {
  const out: SinkRecord[] = [];
  const base = { op, reason, seq, object: obj, ...facts };
  for (const canonical of indicatorObservables(obj)) {
    const observable = isFormulaLike(canonical.value)
      ? { ...canonical, value: neutraliseFormula(canonical.value) }
      : canonical;
    const r = { ...base, key: recordKey(canonical), observable };
    out.push({ ...r, fields: mapFields(mapping, r) });
  }
  return out;
}
