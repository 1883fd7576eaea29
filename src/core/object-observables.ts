/**
 * The observables of a STIX object: the one rule every reader uses (sink records, enrichment,
 * correlation, the lookup index and the stores' value indexes).
 *
 * - An indicator stands for the observables its pattern names, when the pattern is a STIX pattern:
 *   `pattern_type: stix`, or no `pattern_type` at all (STIX 2.0 indicators carry none, and their
 *   pattern is a STIX pattern by definition). Other pattern languages (sigma, yara, snort, …) and
 *   unparseable patterns name none.
 * - An SCO stands for its `value` (addresses, domains, URLs, e-mail addresses) or its hashes
 *   (files, certificates). Only the stores index SCOs (`objectObservables`); sinks, enrichers,
 *   correlation and lookups act on indicators (`indicatorObservables`), so an observable that was
 *   seen but never indicated is never pushed to a blocking sink.
 */
import type { HashAlgorithm, Observable, ObservableType, StixObject } from './stix.js';
import { extractObservables } from './pattern.js';
import { normaliseHash, normaliseObservable } from './observable.js';
import { group } from './indexed.js';

/** True when the object is an indicator whose pattern is a STIX pattern (see above). */
export function hasStixPattern(obj: StixObject): obj is StixObject & { pattern: string } {
  return (
    obj.type === 'indicator' &&
    typeof obj.pattern === 'string' &&
    (obj.pattern_type === undefined || obj.pattern_type === 'stix')
  );
}

/**
 * The one-comparison patterns that mappers write (`patternFor`): `[type:value = 'v']` and
 * `[file|x509-certificate:hashes.ALG = 'v']`, with a printable-ASCII value free of quotes and
 * backslashes. For these, extractObservables comes down to normalising `v` as its path says,
 * which is done here without lexing and parsing the pattern; anything else takes the parser.
 */
const SIMPLE_VALUE =
  /^\[(ipv4-addr|ipv6-addr|domain-name|url|email-addr):value = '([\x20-\x26\x28-\x5b\x5d-\x7e]+)'\]$/;
const SIMPLE_HASH = /^\[(file|x509-certificate):hashes\.(MD5|'SHA-1'|'SHA-256'|'SHA-512') = '([0-9A-Za-z]+)'\]$/;
const HASH_ALG: Record<string, HashAlgorithm> = {
  MD5: 'MD5',
  "'SHA-1'": 'SHA-1',
  "'SHA-256'": 'SHA-256',
  "'SHA-512'": 'SHA-512',
};

/** extractObservables for the simple shapes above; undefined for any other pattern. */
export function simplePatternObservables(pattern: string): Observable[] | undefined {
  let m = SIMPLE_VALUE.exec(pattern);
  if (m) {
    const r = normaliseObservable(group(m, 1) as ObservableType, group(m, 2)); // the pattern admits these types only
    return r.ok ? [r.observable] : [];
  }
  m = SIMPLE_HASH.exec(pattern);
  if (m) {
    const r = normaliseHash(group(m, 1) as 'file' | 'x509-certificate', group(m, 3), HASH_ALG[group(m, 2)]); // as above
    return r.ok ? [r.observable] : [];
  }
  return undefined;
}

/** The observables a STIX pattern names; none when it does not parse. */
export function patternObservables(pattern: string): Observable[] {
  const simple = simplePatternObservables(pattern);
  if (simple) return simple;
  try {
    return extractObservables(pattern);
  } catch {
    return []; // an unparseable pattern is the mapper's rejection to make, not the reader's
  }
}

/** The observables an indicator stands for (none for anything else). */
export function indicatorObservables(obj: StixObject): Observable[] {
  return hasStixPattern(obj) ? patternObservables(obj.pattern) : [];
}

const VALUE_SCOS = new Set<string>(['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr']);
const HASH_SCOS = new Set<string>(['file', 'x509-certificate']);

/**
 * The observables an object stands for: an indicator's (above), an SCO's `value`, or a file's /
 * certificate's hashes (lower-case hex). Empty for anything else.
 */
export function objectObservables(obj: StixObject): Observable[] {
  if (obj.type === 'indicator') return indicatorObservables(obj);
  if (VALUE_SCOS.has(obj.type))
    return typeof obj.value === 'string' ? [{ type: obj.type as ObservableType, value: obj.value }] : [];
  if (!HASH_SCOS.has(obj.type)) return [];
  const hashes = obj.hashes;
  if (!hashes || typeof hashes !== 'object') return [];
  const out: Observable[] = [];
  for (const v of Object.values(hashes as Record<string, unknown>)) {
    if (typeof v === 'string') out.push({ type: obj.type as ObservableType, value: v.toLowerCase() });
  }
  return out;
}
