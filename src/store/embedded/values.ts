import { StixgateError } from '../../core/errors.js';
import { isObservableType, type ObservableType } from '../../core/stix.js';
import { keyHash } from './key-index.js';

export interface ObjectObservable {
  type: ObservableType;
  value: string;
}

/** Compact text form kept in `objects.obs`: one `type<TAB>value` per line, or null. */
export function encodeObservables(list: readonly ObjectObservable[]): string | null {
  if (list.length === 0) return null;
  let out = '';
  for (const o of list) out += `${(out === '' ? '' : '\n') + o.type}\t${o.value}`;
  return out;
}

export function decodeObservables(text: string | null): ObjectObservable[] {
  if (!text) return [];
  return text.split('\n').map((line) => {
    const tab = line.indexOf('\t');
    const type = line.slice(0, tab);
    if (!isObservableType(type)) {
      throw new StixgateError(
        'STIXGATE_ERR_STORE_CORRUPT',
        `stored observable type ${JSON.stringify(type)} is unknown`,
        {
          reason: 'stored_observable',
        },
      );
    }
    return { type, value: line.slice(tab + 1) };
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
  const [only] = values;
  return values.length === 1 && only !== undefined ? [keyHash(only)] : [...new Set(values.map(keyHash))];
}

/** `object_keys.value_keys`: NULL for none, an INTEGER for one (the usual case), u32 LE BLOB for more. */
export function encodeValueKeys(keys: readonly number[]): number | Buffer | null {
  if (keys.length === 0) return null;
  const [only] = keys;
  if (keys.length === 1 && only !== undefined) return only;
  const b = Buffer.allocUnsafe(keys.length * 4);
  let offset = 0;
  for (const k of keys) offset = b.writeUInt32LE(k, offset);
  return b;
}
