import type { Rejection } from '../../src/core/errors.js';
import { safeJsonParse } from '../../src/core/safe-json.js';
import type { MappedItem } from '../../src/pipeline/types.js';
import type { SplitEvent } from '../../src/formats/json-split.js';
import { checkObject, type FieldCaps } from '../../src/core/stix-check.js';
import { checkedItems } from '../../src/formats/checked-items.js';

/**
 * One element of a bundle → its mapped items (the object, and the SCOs of an upgraded STIX 2.0
 * observed-data) or a rejection. Pure: objects keep their own ids and
 * timestamps; nothing is read from the clock.
 */
export function mapElement(
  ev: SplitEvent,
  caps: FieldCaps,
  maxDepth: number,
  source: string,
): { items?: MappedItem[]; rejection?: Rejection } {
  if (ev.kind === 'error')
    return { rejection: { reason: ev.reason, message: ev.message, location: { source, index: ev.index } } };
  const parsed = safeJsonParse(ev.text, { maxDepth, knownDepth: ev.depth, knownMembers: ev.members });
  if (!parsed.ok)
    return { rejection: { reason: parsed.reason, message: parsed.message, location: { source, index: ev.index } } };
  const r = checkObject(parsed.value, caps);
  if (!r.ok) {
    const location: Rejection['location'] = { source, index: ev.index };
    if (r.id) location.objectId = r.id;
    return { rejection: { reason: r.reason, message: r.message, location } };
  }
  return { items: checkedItems(r) };
}
