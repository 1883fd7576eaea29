import type { ObservableType, StixObject } from '../../core/stix.js';
import { extractObservables } from '../../core/pattern.js';
import { normaliseHash, normaliseObservable } from '../../core/observable.js';
import { keyHash } from './key-index.js';

export interface ObjectObservable {
  type: ObservableType;
  value: string;
}

const VALUE_SCOS = new Set<string>(['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr']);

/**
 * The one-comparison patterns that mappers write (`patternFor`): `[type:value = 'v']` and
 * `[file|x509-certificate:hashes.ALG = 'v']`, with a printable-ASCII value free of quotes and
 * backslashes. For these, extractObservables comes down to normalising `v` as its path says,
 * which is done here without lexing and parsing the pattern; anything else takes the parser.
 */
const SIMPLE_VALUE = /^\[(ipv4-addr|ipv6-addr|domain-name|url|email-addr):value = '([\x20-\x26\x28-\x5b\x5d-\x7e]+)'\]$/;
const SIMPLE_HASH = /^\[(file|x509-certificate):hashes\.(MD5|'SHA-1'|'SHA-256'|'SHA-512') = '([0-9A-Za-z]+)'\]$/;
const HASH_ALG = { MD5: 'MD5', "'SHA-1'": 'SHA-1', "'SHA-256'": 'SHA-256', "'SHA-512'": 'SHA-512' } as const;

/** extractObservables for the simple shapes above; undefined for any other pattern. */
export function simplePatternObservables(pattern: string): ObjectObservable[] | undefined {
  let m = SIMPLE_VALUE.exec(pattern);
  if (m) {
    const r = normaliseObservable(m[1] as ObservableType, m[2]);
    return r.ok ? [{ type: r.observable.type, value: r.observable.value }] : [];
  }
  m = SIMPLE_HASH.exec(pattern);
  if (m) {
    const r = normaliseHash(m[1] as 'file' | 'x509-certificate', m[3], HASH_ALG[m[2] as keyof typeof HASH_ALG]);
    return r.ok ? [{ type: r.observable.type, value: r.observable.value }] : [];
  }
  return undefined;
}
const HASH_SCOS = new Set<string>(['file', 'x509-certificate']);

/**
 * The canonical observables an object stands for: an indicator's pattern (STIX patterns only),
 * an SCO's `value`, or a file's / certificate's hashes (lower-case hex). Empty for anything else.
 */
export function observablesOf(obj: StixObject): ObjectObservable[] {
  const type = obj.type;
  if (type === 'indicator') {
    if (obj.pattern_type !== 'stix' || typeof obj.pattern !== 'string') return [];
    const simple = simplePatternObservables(obj.pattern);
    if (simple) return simple;
    try {
      return extractObservables(obj.pattern).map((o) => ({ type: o.type, value: o.value }));
    } catch {
      return []; // an unparseable pattern is the mapper's rejection to make, not the store's
    }
  }
  if (VALUE_SCOS.has(type)) {
    return typeof obj.value === 'string' ? [{ type: type as ObservableType, value: obj.value }] : [];
  }
  if (HASH_SCOS.has(type)) {
    const hashes = obj.hashes;
    if (!hashes || typeof hashes !== 'object') return [];
    const out: ObjectObservable[] = [];
    for (const v of Object.values(hashes as Record<string, unknown>)) {
      if (typeof v === 'string') out.push({ type: type as ObservableType, value: v.toLowerCase() });
    }
    return out;
  }
  return [];
}

/** Compact text form kept in `objects.obs`: one `type<TAB>value` per line, or null. */
export function encodeObservables(list: readonly ObjectObservable[]): string | null {
  if (list.length === 0) return null;
  let out = '';
  for (let i = 0; i < list.length; i++) out += (i ? '\n' : '') + list[i].type + '\t' + list[i].value;
  return out;
}

export function decodeObservables(text: string | null): ObjectObservable[] {
  if (!text) return [];
  return text.split('\n').map((line) => {
    const tab = line.indexOf('\t');
    return { type: line.slice(0, tab) as ObservableType, value: line.slice(tab + 1) };
  });
}

/** Distinct values of an encoded list (what `object_values` holds). */
export function valuesOf(text: string | null): string[] {
  if (!text) return [];
  // one observable (the usual case): its value, as decodeObservables would read it
  if (text.indexOf('\n') === -1) return [text.slice(text.indexOf('\t') + 1)];
  return [...new Set(decodeObservables(text).map((o) => o.value))];
}

/** Distinct key hashes of an encoded list's values (what the value key table holds for a row). */
export function valueKeysOf(text: string | null): number[] {
  const values = valuesOf(text);
  return values.length === 1 ? [keyHash(values[0])] : [...new Set(values.map(keyHash))];
}

/** `object_keys.value_keys`: NULL for none, an INTEGER for one (the usual case), u32 LE BLOB for more. */
export function encodeValueKeys(keys: readonly number[]): number | Buffer | null {
  if (keys.length === 0) return null;
  if (keys.length === 1) return keys[0];
  const b = Buffer.allocUnsafe(keys.length * 4);
  for (let i = 0; i < keys.length; i++) b.writeUInt32LE(keys[i], i * 4);
  return b;
}
