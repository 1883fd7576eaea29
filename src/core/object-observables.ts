import type { Observable, StixObject } from './stix.js';
import { extractObservables } from './pattern.js';

/** The observables an indicator (by its pattern) or an SCO stands for. Unparseable → none. */
export function observablesOf(obj: StixObject): Observable[] {
  if (obj.type === 'indicator' && typeof obj.pattern === 'string') {
    if (obj.pattern_type !== undefined && obj.pattern_type !== 'stix') return [];
    try {
      return extractObservables(obj.pattern);
    } catch {
      return [];
    }
  }
  return [];
}
