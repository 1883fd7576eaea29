import type { KeyedMap } from '../core/sharded-map.js';

/**
 * A posting is the set of indicator slots listed under one key: a bare number when there is one
 * slot (the common case: ids are deterministic per value) and an array when several indicators
 * share the value.
 */
export type Posting = number | number[];

export function addPosting<K>(map: KeyedMap<K, Posting>, key: K, slot: number): void {
  const p = map.get(key);
  if (p === undefined) map.set(key, slot);
  else if (typeof p === 'number') {
    if (p !== slot) map.set(key, [p, slot]);
  } else if (!p.includes(slot)) p.push(slot);
}

export function removePosting<K>(map: KeyedMap<K, Posting>, key: K, slot: number): void {
  const p = map.get(key);
  if (p === undefined) return;
  if (typeof p === 'number') {
    if (p === slot) map.delete(key);
    return;
  }
  const i = p.indexOf(slot);
  if (i < 0) return;
  p.splice(i, 1);
  const [only] = p;
  if (p.length === 1 && only !== undefined) map.set(key, only);
}
