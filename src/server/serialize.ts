import type { InactiveMatch, IndicatorMatch, LookupResult } from '../lookup/index.js';

/**
 * Hand-written JSON for lookup answers: the lookup hot path. The output is exactly what
 * fast-json-stringify produced from `lookupResultSchema` (same keys, same order: required keys
 * first, then the optional `type` and `invalid`; strings escaped as JSON.stringify does), and it
 * is equally an allowlist: only the listed fields are ever written. A schema with `anyOf` made
 * fast-json-stringify validate every answer with ajv to pick the branch, which cost more than the
 * lookup itself.
 */
export function serializeResult(r: LookupResult): string {
  const value = JSON.stringify(r.value);
  let s = `{"value":${value},"matched":${r.matched ? 'true' : 'false'},"indicators":[`;
  const list = r.indicators;
  let sep = '';
  for (const m of list) {
    s += `${sep}{"id":${idJson(m.id)},"match":${enumJson(m.match)},"matched_value":${m.matched_value === r.value ? value : JSON.stringify(m.matched_value)},${tailJson(m)}`;
    sep = ',';
  }
  s += ']';
  if (r.type !== undefined) s += `,"type":${enumJson(r.type)}`;
  if (r.invalid !== undefined) s += `,"invalid":${JSON.stringify(r.invalid)}`;
  if (r.warninglists !== undefined)
    s += `,"warninglists":${JSON.stringify(r.warninglists.map((w) => (w.private_suffix === undefined ? { list: w.list, type: w.type, entry: w.entry, source: w.source } : { list: w.list, type: w.type, entry: w.entry, source: w.source, private_suffix: w.private_suffix })))}`;
  if (r.related !== undefined) s += `,"related":${JSON.stringify(r.related)}`;
  if (r.inactive !== undefined) s += `,"inactive":[${r.inactive.map(inactiveJson).join(',')}]`;
  if (r.deliveries !== undefined) s += `,"deliveries":${JSON.stringify(r.deliveries)}`;
  return `${s}}`;
}

/** One inactive match, its fields listed (an allowlist, like the hits). */
function inactiveJson(m: InactiveMatch): string {
  return (
    `{"id":${idJson(m.id)},"state":${enumJson(m.state)},"ended":${timeJson(m.ended)},"matched_value":${JSON.stringify(m.matched_value)},` +
    `"score":${m.score === null ? 'null' : scoreJson(m.score)},"tlp":${enumJson(m.tlp)},"labels":${JSON.stringify(m.labels.map(String))},` +
    `"sources":${JSON.stringify(m.sources.map(String))},"first_seen":${timeJson(m.first_seen)},"last_seen":${timeJson(m.last_seen)},"valid_until":${timeJson(m.valid_until)}}`
  );
}

/** `{ "results": [ … ] }` */
export function serializeBatch(results: readonly LookupResult[]): string {
  let s = '{"results":[';
  let sep = '';
  for (const r of results) {
    s += sep + serializeResult(r);
    sep = ',';
  }
  return `${s}]}`;
}

/** Everything after `matched_value`, closing the object. */
function tailJson(m: IndicatorMatch): string {
  return (
    `"score":${m.score === null ? 'null' : scoreJson(m.score)},"tlp":${enumJson(m.tlp)},"labels":${listJson(m.labels)},"sources":${listJson(m.sources)},` +
    `"first_seen":${timeJson(m.first_seen)},"last_seen":${timeJson(m.last_seen)},"valid_until":${timeJson(m.valid_until)},"sightings":${m.sightings}}`
  );
}

// JSON.stringify costs ~0.1 µs a string; a hit carries a dozen. Strings from small closed sets
// (match kinds, TLP levels, observable types), timestamps (few distinct: one feed poll stamps
// many indicators) and interned lists are quoted once and memoised; ids in the canonical form
// need no escaping. Anything else goes through JSON.stringify.

const CANONICAL_ID = /^indicator--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function idJson(id: string): string {
  return CANONICAL_ID.test(id) ? `"${id}"` : JSON.stringify(id);
}

const SCORES = Array.from({ length: 101 }, (_, i) => String(i));

function scoreJson(score: number): string {
  return SCORES[score] ?? String(Math.trunc(score));
}

const ENUMS = new Map<string, string>();

function enumJson(v: string): string {
  let s = ENUMS.get(v);
  if (s === undefined) {
    s = JSON.stringify(v);
    if (ENUMS.size < 64) ENUMS.set(v, s);
  }
  return s;
}

const TIMES = new Map<string, string>();

function timeJson(v: string | null): string {
  if (v === null) return 'null';
  let s = TIMES.get(v);
  if (s === undefined) {
    if (TIMES.size >= 8192) TIMES.clear();
    s = JSON.stringify(v);
    TIMES.set(v, s);
  }
  return s;
}

/** Label and source lists are interned (shared, frozen) by the index, so their JSON is memoised by identity. */
const LISTS = new WeakMap<readonly string[], string>();

function listJson(list: readonly string[]): string {
  if (list.length === 0) return '[]';
  let s = LISTS.get(list);
  if (s === undefined) {
    s = JSON.stringify(list.map(String));
    if (Object.isFrozen(list)) LISTS.set(list, s);
  }
  return s;
}
