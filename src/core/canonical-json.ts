/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * Object keys are sorted by UTF-16 code units (JavaScript's default string order, which is what
 * RFC 8785 §3.2.3 prescribes), numbers use the ECMAScript serialisation (RFC 8785 §3.2.2.3, which
 * `JSON.stringify` implements) and strings the ECMAScript escaping (§3.2.2.2).
 * `undefined` object members are omitted (as JSON.stringify does); non-finite numbers, BigInts,
 * functions and symbols throw, because they have no JSON form.
 */

/** Quoted forms of the object keys seen so far (STIX uses a small set of property names). */
const QUOTED_MAX = 4096;
const quoted = new Map<string, string>();

function quoteKey(k: string): string {
  let q = quoted.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (quoted.size < QUOTED_MAX && k.length <= 64) quoted.set(k, q);
  }
  return q;
}

/**
 * Sorts in place by UTF-16 code units (the `<` order on strings, which is also what the default
 * `Array.prototype.sort` uses). Objects have few keys: an insertion sort beats the general sort.
 */
function sortKeys(keys: string[]): string[] {
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i];
    let j = i - 1;
    let kj: string | undefined = keys[j];
    if (k === undefined || kj === undefined || kj <= k) continue;
    // kj is keys[j] while j >= 0; the array has no holes, so undefined only past its start
    while (kj !== undefined && kj > k) {
      keys[j + 1] = kj;
      j--;
      kj = j >= 0 ? keys[j] : undefined;
    }
    keys[j + 1] = k;
  }
  return keys;
}

export function canonicalize(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalize: ${value} has no JSON form`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          const v: unknown = value[i];
          out += v === undefined ? 'null' : canonicalize(v);
        }
        return `${out}]`;
      }
      const maybeJson = value as { toJSON?: () => unknown };
      if (typeof maybeJson.toJSON === 'function') return canonicalize(maybeJson.toJSON());
      const obj = value as Record<string, unknown>;
      const keys = sortKeys(Object.keys(obj));
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) continue;
        out += `${(first ? '' : ',') + quoteKey(k)}:${canonicalize(v)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonicalize: a ${typeof value} has no JSON form`);
  }
}
