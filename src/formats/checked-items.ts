import type { CheckResult } from '../core/stix-check.js';
import type { MappedItem } from '../pipeline/types.js';

/** The mapped items of a checked STIX object: the object, then the SCOs a STIX 2.0 observed-data upgrade produced. */
export function checkedItems(r: Extract<CheckResult, { ok: true }>): MappedItem[] {
  const item: MappedItem = { object: r.object };
  if (typeof r.object.confidence === 'number') item.confidence = r.object.confidence;
  return [item, ...(r.scos ?? []).map((object) => ({ object }))];
}
