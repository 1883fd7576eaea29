/**
 * Comparison rules between our STIX 2.1 output and stix2-elevator's reference output for the
 * OASIS idioms (used by test/golden/stix1-idioms.test.ts; documented in README.md).
 *
 * - ids, timestamps, created_by_ref, markings, external references and descriptions are ignored;
 * - patterns are compared after `parsePattern`, with AND/OR chains flattened and their operands
 *   sorted (both are commutative and associative), and string literals compared case-insensitively
 *   (we canonicalise hashes and protocols to lower case, the elevator keeps the source's case);
 *   MATCHES literals are compared without regex escapes (we escape metacharacters of Contains /
 *   StartsWith / EndsWith values, the elevator does not), and our lookup companion of a contains
 *   term (`(p MATCHES 'x' OR p = 'x')`) compares as its MATCHES;
 * - an indicator matches when its pattern, name, indicator_types, confidence and kill-chain
 *   phases match;
 * - an observable (SCO) matches on its type and its properties (nested keys sorted), references
 *   and timestamps left out, strings compared case-insensitively;
 * - a relationship matches on its source type, relationship type and target type (ids differ);
 *   reference relationships whose source or target the elevator did not emit are left out.
 */
import { first } from '../../src/core/indexed.js';
import { parsePattern } from '../../src/core/pattern.js';
import type { ComparisonExpression, Literal, ObjectPath, ObservationExpression } from '../../src/core/pattern.js';
import { isSco, type StixObject } from '../../src/core/stix.js';

function pathKey(p: ObjectPath): string {
  return `${p.objectType}:${p.steps.map((s) => (s.kind === 'key' ? `.${s.name}` : `[${s.index}]`)).join('')}`;
}

function litKey(l: Literal): string {
  switch (l.kind) {
    case 'string':
      return `'${l.value.toLowerCase()}'`;
    case 'int':
    case 'float':
      return String(Number(l.text));
    case 'bool':
      return String(l.value);
    case 'timestamp':
      return `t'${new Date(Date.parse(l.value)).toISOString()}'`;
    default:
      return `${l.kind}'${l.value}'`;
  }
}

/** A MATCHES literal without its regex escapes: we escape metacharacters, the elevator does not. */
function unescapeRegex(l: Literal): Literal {
  return l.kind === 'string' ? { ...l, value: l.value.replace(/\\([^A-Za-z0-9])/g, '$1') } : l;
}

/** Our lookup companion of a `contains` term: `(p MATCHES 'x' OR p = 'x')` compares as the MATCHES alone. */
function withoutCompanion(c: ComparisonExpression): ComparisonExpression {
  if (c.kind !== 'comparison-op' || c.op !== 'OR' || c.operands.length !== 2) return c;
  const [a, b] = c.operands;
  if (
    a?.kind === 'comparison' &&
    b?.kind === 'comparison' &&
    a.operator === 'MATCHES' &&
    b.operator === '=' &&
    !b.negated &&
    pathKey(a.path) === pathKey(b.path)
  )
    return a;
  return c;
}

function cmpKey(cmp: ComparisonExpression): string {
  const c = withoutCompanion(cmp);
  switch (c.kind) {
    case 'exists':
      return `EXISTS ${pathKey(c.path)}`;
    case 'comparison': {
      const lit = (l: Literal): string => litKey(c.operator === 'MATCHES' ? unescapeRegex(l) : l);
      const v = Array.isArray(c.value) ? `(${c.value.map(lit).sort().join(',')})` : lit(c.value);
      return `${pathKey(c.path)} ${c.negated ? 'NOT ' : ''}${c.operator} ${v}`;
    }
    case 'comparison-op': {
      const flat: string[] = [];
      const visit = (x: ComparisonExpression): void => {
        if (x.kind === 'comparison-op' && x.op === c.op) x.operands.forEach(visit);
        else flat.push(cmpKey(x));
      };
      c.operands.forEach(visit);
      return flat.length === 1 ? first(flat) : `(${[...flat].sort().join(` ${c.op} `)})`;
    }
  }
}

function obsKey(e: ObservationExpression): string {
  const q = e.qualifiers.map((x) => JSON.stringify(x)).join('');
  if (e.kind === 'observation') return `[${cmpKey(e.comparison)}]${q}`;
  const flat: string[] = [];
  const visit = (x: ObservationExpression): void => {
    if (x.kind === 'observation-op' && x.op === e.op && x.qualifiers.length === 0 && e.op !== 'FOLLOWEDBY')
      x.operands.forEach(visit);
    else flat.push(obsKey(x));
  };
  e.operands.forEach(visit);
  const parts = e.op === 'FOLLOWEDBY' ? flat : [...flat].sort();
  return `(${parts.join(` ${e.op} `)})${q}`;
}

/** The comparison form of a pattern (see the module comment); the raw text when it does not parse. */
export function comparablePattern(pattern: string, type = 'stix'): string {
  if (type !== 'stix') return `${type}:${pattern.trim()}`;
  try {
    return obsKey(parsePattern(pattern));
  } catch {
    return `unparsed:${pattern}`;
  }
}

function indicatorKey(o: StixObject): string {
  return JSON.stringify([
    comparablePattern(String(o.pattern ?? ''), String(o.pattern_type ?? 'stix')),
    o.name ?? '',
    [...((o.indicator_types as string[] | undefined) ?? [])].sort(),
    o.confidence ?? null,
    ((o.kill_chain_phases as { kill_chain_name: string; phase_name: string }[] | undefined) ?? [])
      .map((k) => `${k.kill_chain_name}/${k.phase_name}`)
      .sort(),
  ]);
}

const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/i;

/** Keys sorted at every level; reference properties dropped; timestamps reduced to a marker (ignored). */
function stable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stable);
  if (typeof v === 'string') return TIMESTAMP.test(v) ? '<timestamp>' : v;
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) {
    if (k.endsWith('_ref') || k.endsWith('_refs')) continue;
    out[k] = stable((v as Record<string, unknown>)[k]);
  }
  return out;
}

function scoKey(o: StixObject): string {
  const keys = Object.keys(o)
    .filter((k) => !['id', 'spec_version', 'defanged', 'object_marking_refs', 'granular_markings'].includes(k))
    .sort();
  const flat: Record<string, unknown> = {};
  for (const k of keys) flat[k] = o[k];
  return JSON.stringify(stable(flat)).toLowerCase();
}

export interface Agreement {
  ref: number;
  ours: number;
  matched: number;
  agree: boolean;
}

function multiset(ref: string[], ours: string[]): Agreement {
  const counts = new Map<string, number>();
  for (const r of ref) counts.set(r, (counts.get(r) ?? 0) + 1);
  let matched = 0;
  for (const o of ours) {
    const n = counts.get(o) ?? 0;
    if (n > 0) {
      matched++;
      counts.set(o, n - 1);
    }
  }
  return { ref: ref.length, ours: ours.length, matched, agree: matched === ref.length && matched === ours.length };
}

export interface IdiomComparison {
  indicators: Agreement;
  observables: Agreement;
  patterns: Agreement;
  /** Relationships as (source type, relationship type, target type); reference ones whose target it never emitted left out. */
  relationships: Agreement;
  /** type → [reference count, our count], for types whose counts differ. */
  typeCounts: Record<string, [number, number]>;
  missingPatterns: string[];
  extraPatterns: string[];
  missingObservables: string[];
  extraObservables: string[];
  missingIndicators: string[];
  extraIndicators: string[];
}

function diff(a: string[], b: string[]): string[] {
  const rest = [...b];
  const out: string[] = [];
  for (const x of a) {
    const i = rest.indexOf(x);
    if (i >= 0) rest.splice(i, 1);
    else out.push(x);
  }
  return out;
}

export function compareIdiom(ours: readonly StixObject[], ref: readonly StixObject[]): IdiomComparison {
  const refInd = ref.filter((o) => o.type === 'indicator' && typeof o.pattern === 'string' && o.pattern.trim() !== '');
  const ourInd = ours.filter((o) => o.type === 'indicator');
  const refPat = refInd
    .filter((o) => (o.pattern_type ?? 'stix') === 'stix')
    .map((o) => comparablePattern(String(o.pattern)));
  const ourPat = ourInd
    .filter((o) => (o.pattern_type ?? 'stix') === 'stix')
    .map((o) => comparablePattern(String(o.pattern)));
  const refSco = ref.filter((o) => isSco(o.type)).map(scoKey);
  const ourSco = ours.filter((o) => isSco(o.type)).map(scoKey);
  const typeCounts: Record<string, [number, number]> = {};
  const count = (list: readonly StixObject[], t: string): number => list.filter((o) => o.type === t).length;
  for (const t of new Set([...ref.map((o) => o.type), ...ours.map((o) => o.type)])) {
    const a = count(ref, t);
    const b = count(ours, t);
    if (a !== b) typeCounts[t] = [a, b];
  }
  const refIds = new Set(ref.map((o) => o.id));
  const relKey = (o: StixObject): string =>
    `${String(o.source_ref).split('--')[0]} ${String(o.relationship_type)} ${String(o.target_ref).split('--')[0]}`;
  const refRel = ref
    .filter((o) => o.type === 'relationship' && refIds.has(String(o.source_ref)) && refIds.has(String(o.target_ref)))
    .map(relKey);
  const ourRel = ours.filter((o) => o.type === 'relationship').map(relKey);
  const refIndKeys = refInd.map(indicatorKey);
  const ourIndKeys = ourInd.map(indicatorKey);
  return {
    missingIndicators: diff(refIndKeys, ourIndKeys),
    extraIndicators: diff(ourIndKeys, refIndKeys),
    indicators: multiset(refIndKeys, ourIndKeys),
    observables: multiset(refSco, ourSco),
    patterns: multiset(refPat, ourPat),
    relationships: multiset(refRel, ourRel),
    typeCounts,
    missingPatterns: diff(refPat, ourPat),
    extraPatterns: diff(ourPat, refPat),
    missingObservables: diff(refSco, ourSco),
    extraObservables: diff(ourSco, refSco),
  };
}
