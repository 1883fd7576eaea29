import type { IndicatorMatch, LookupResult } from '../lookup/index.js';

/**
 * Hand-written JSON for lookup answers: the lookup hot path. The output is exactly what
 * fast-json-stringify produced from `lookupResultSchema` (same keys, same order: required keys
 * first, then the optional `type` and `invalid`; strings escaped as JSON.stringify does), and it
 * is equally an allowlist: only the listed fields are ever written. A schema with `anyOf` made
 * fast-json-stringify validate every answer with ajv to pick the branch, which cost more than the
 * lookup itself.
 */
export function serializeResult(r: LookupResult): string {
  let s = `{"value":${JSON.stringify(r.value)},"matched":${r.matched ? 'true' : 'false'},"indicators":[`;
  const list = r.indicators;
  for (let i = 0; i < list.length; i++) s += (i === 0 ? '' : ',') + serializeMatch(list[i]);
  s += ']';
  if (r.type !== undefined) s += `,"type":${JSON.stringify(r.type)}`;
  if (r.invalid !== undefined) s += `,"invalid":${JSON.stringify(r.invalid)}`;
  return s + '}';
}

/** `{ "results": [ … ] }` */
export function serializeBatch(results: readonly LookupResult[]): string {
  let s = '{"results":[';
  for (let i = 0; i < results.length; i++) s += (i === 0 ? '' : ',') + serializeResult(results[i]);
  return s + ']}';
}

function serializeMatch(m: IndicatorMatch): string {
  return (
    `{"id":${JSON.stringify(m.id)},"match":${JSON.stringify(m.match)},"matched_value":${JSON.stringify(m.matched_value)},` +
    `"score":${m.score === null ? 'null' : String(Math.trunc(m.score))},"tlp":${JSON.stringify(m.tlp)},` +
    `"labels":${stringList(m.labels)},"sources":${stringList(m.sources)},` +
    `"first_seen":${nullableString(m.first_seen)},"last_seen":${nullableString(m.last_seen)},"valid_until":${nullableString(m.valid_until)}}`
  );
}

/** Label and source lists are interned (shared, frozen) by the index, so their JSON is memoised. */
const listJson = new WeakMap<readonly string[], string>();

function stringList(list: readonly string[]): string {
  if (list.length === 0) return '[]';
  let s = listJson.get(list);
  if (s === undefined) {
    s = JSON.stringify(list.map(String));
    if (Object.isFrozen(list)) listJson.set(list, s);
  }
  return s;
}

function nullableString(v: string | null): string {
  return v === null ? 'null' : JSON.stringify(v);
}
