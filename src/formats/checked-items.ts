import type { CheckResult } from '../core/stix-check.js';
import type { MappedItem } from '../pipeline/types.js';
import { stixRecordTime } from '../score/record-time.js';

/**
 * The mapped items of a checked STIX object: the object, then the SCOs a STIX 2.0 observed-data
 * upgrade produced. The object carries its own `confidence`, and the time it records its last
 * observation in as `seenAt` (the time model, docs/scoring.md §2a), so that re-reading an
 * unchanged object is not a new sighting.
 */
export function checkedItems(r: Extract<CheckResult, { ok: true }>): MappedItem[] {
  const item: MappedItem = { object: r.object };
  if (typeof r.object.confidence === 'number') item.confidence = r.object.confidence;
  const seenAt = stixRecordTime(r.object);
  if (seenAt !== undefined) item.seenAt = seenAt;
  return [item, ...(r.scos ?? []).map((object) => ({ object }))];
}
