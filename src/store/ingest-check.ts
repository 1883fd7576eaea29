import type { Rejection } from '../core/errors.js';
import { isRecord } from '../core/guards.js';
import type { IngestItem } from './contract.js';

function rejection(item: IngestItem | undefined, index: number, message: string): Rejection {
  // the item comes from outside the type system's reach (a mapper, a worker message): checked here
  const o: unknown = item?.object;
  return {
    reason: 'stix_invalid',
    message,
    location: {
      index,
      ...(typeof item?.source === 'string' ? { source: item.source } : {}),
      ...(isRecord(o) && typeof o.id === 'string' ? { objectId: o.id } : {}),
    },
  };
}

/**
 * The checks every store makes on an ingest item before merging it: an object with a type and an
 * id of that type, from a named source. Anything else is rejected (`stix_invalid`) on its own.
 */
export function checkIngestItem(item: IngestItem | undefined, index: number): Rejection | undefined {
  const o: unknown = item?.object;
  if (item && typeof item === 'object' && isRecord(o) && typeof item.source === 'string' && item.source !== '') {
    const type = o.type;
    const id = o.id;
    // the usual case, checked without building anything
    if (
      typeof type === 'string' &&
      type !== '' &&
      typeof id === 'string' &&
      id.length > type.length + 2 &&
      id.startsWith(type) &&
      id.startsWith('--', type.length)
    ) {
      return undefined;
    }
  }
  const bad = (message: string): Rejection => rejection(item, index, message);
  if (!item || typeof item !== 'object' || !isRecord(o)) return bad('item has no object');
  if (typeof item.source !== 'string' || item.source === '') return bad('item has no source');
  if (typeof o.type !== 'string' || o.type === '') return bad('object has no type');
  if (typeof o.id !== 'string' || !o.id.startsWith(`${o.type}--`) || o.id.length <= o.type.length + 2) {
    return bad(`object id ${String(o.id)} does not match its type ${o.type}`);
  }
  return undefined;
}
