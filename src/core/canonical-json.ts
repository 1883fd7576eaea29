/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * Object keys are sorted by UTF-16 code units (JavaScript's default string order, which is what
 * RFC 8785 §3.2.3 prescribes), numbers use the ECMAScript serialisation (RFC 8785 §3.2.2.3, which
 * `JSON.stringify` implements) and strings the ECMAScript escaping (§3.2.2.2).
 * `undefined` object members are omitted (as JSON.stringify does); non-finite numbers, BigInts,
 * functions and symbols throw, because they have no JSON form.
 */
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
        return out + ']';
      }
      const maybeJson = value as { toJSON?: () => unknown };
      if (typeof maybeJson.toJSON === 'function') return canonicalize(maybeJson.toJSON());
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += JSON.stringify(k) + ':' + canonicalize(v);
      }
      return out + '}';
    }
    default:
      throw new TypeError(`canonicalize: a ${typeof value} has no JSON form`);
  }
}
