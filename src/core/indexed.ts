/**
 * Reads whose presence the caller has already established (a loop bound, a length check, a
 * mandatory regular-expression group). They return the element type without `undefined` and throw
 * a RangeError when that premise is wrong, so a broken invariant fails where it breaks instead of
 * travelling on as `undefined`.
 */

/** `items[i]` for an index the caller knows to be within `0 .. items.length - 1`. */
export function at<T>(items: ArrayLike<T>, i: number): T {
  const v = items[i];
  if (v === undefined && !(i >= 0 && i < items.length)) {
    throw new RangeError(`index ${i} is outside 0..${items.length - 1}`);
  }
  return v as T; // within bounds: an undefined here is an element of T itself
}

/** The first element of a list the caller knows to be non-empty. */
export function first<T>(items: ArrayLike<T>): T {
  return at(items, 0);
}

/** The last element of a list the caller knows to be non-empty. */
export function last<T>(items: ArrayLike<T>): T {
  return at(items, items.length - 1);
}

/** Capture group `n` of a match whose pattern makes that group mandatory. */
export function group(match: RegExpMatchArray | RegExpExecArray, n: number): string {
  const v = match[n];
  if (v === undefined) throw new RangeError(`group ${n} did not take part in the match of ${JSON.stringify(match[0])}`);
  return v;
}

/** The value of a map entry the caller knows to exist (a key it has just set or checked; values are never undefined). */
export function entry<K, V>(map: ReadonlyMap<K, V>, key: K): V {
  const v = map.get(key);
  if (v === undefined) throw new RangeError(`no entry for ${String(key)}`);
  return v;
}
