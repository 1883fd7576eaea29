/**
 * Type guards for values whose shape is not known to the checker: parsed JSON, thrown values,
 * library results typed `unknown`. They test what a reader relies on, so a value of another shape
 * is handled where it arrives instead of failing later as `undefined`.
 */

/** A plain object (not null, not an array): parsed JSON objects, option bags. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An array whose every element is a string. */
export function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** The `code` of a thrown Node.js system error (`ENOENT`, `EEXIST`…), when it has one. */
export function errorCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || !('code' in e)) return undefined;
  return typeof e.code === 'string' ? e.code : undefined;
}
