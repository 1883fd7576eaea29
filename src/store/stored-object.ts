import { StixgateError } from '../core/errors.js';
import { isRecord } from '../core/guards.js';
import { excerpt } from '../core/safe-json.js';
import type { StixObject } from '../core/stix.js';

/** An object with the string `type` and `id` every STIX object has (the rest is the reader's to check). */
export function hasStixIdentity(v: unknown): v is StixObject {
  return isRecord(v) && typeof v.type === 'string' && typeof v.id === 'string';
}

/**
 * Parses an object's stored JSON (written by the store itself from a checked object). A value
 * without a type and an id means the stored data was damaged: a store error naming it, not an
 * object that fails later.
 */
export function storedObject(json: string): StixObject {
  const v: unknown = JSON.parse(json);
  if (hasStixIdentity(v)) return v;
  throw new StixgateError('STIXGATE_ERR_STORE_CORRUPT', `a stored object has no type and id: ${excerpt(json)}`, {
    reason: 'stored_object',
  });
}
