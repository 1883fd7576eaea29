/**
 * Indicators made from canonical observables. Pure: time is injected through `now`, the id is a
 * UUIDv5 of the canonical pattern, and the key order is fixed so equal inputs serialise equally.
 */
import type { Indicator, Observable } from './stix.js';
import { deterministicId } from './ids.js';
import { patternFor } from './pattern.js';

export interface IndicatorOptions {
  /** RFC 3339, injected; used for created/modified/valid_from unless given. */
  now: string;
  validFrom?: string;
  validUntil?: string;
  name?: string;
  description?: string;
  /** Default `['malicious-activity']`. */
  indicatorTypes?: string[];
  labels?: string[];
  confidence?: number;
  markingRefs?: string[];
  createdByRef?: string;
  externalReferences?: Indicator['external_references'];
}

const DEFAULT_INDICATOR_TYPES: readonly string[] = ['malicious-activity'];

/**
 * The id of the indicator for an observable, without re-parsing: `patternFor` output is already
 * canonical, so this equals `indicatorIdForPattern(patternFor(o))` (a test checks it).
 */
export function indicatorIdForObservable(o: Observable): string {
  return deterministicId('indicator', patternFor(o));
}

/** `b` strictly after `a` (RFC 3339 timestamps, compared as instants). */
function isAfter(a: string, b: string): boolean {
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (Number.isNaN(ta) || Number.isNaN(tb)) return false;
  return tb > ta;
}

/**
 * A STIX 2.1 indicator for one observable: id = indicatorIdForPattern(pattern), pattern_type
 * `stix`, pattern_version `2.1`, name defaulting to the value. `valid_until` is kept only when it
 * is strictly after `valid_from`; empty arrays and absent options are omitted.
 */
export function indicatorFromObservable(o: Observable, opts: IndicatorOptions): Indicator {
  const pattern = patternFor(o);
  const validFrom = opts.validFrom ?? opts.now;
  const ind: Indicator = {
    type: 'indicator',
    spec_version: '2.1',
    id: deterministicId('indicator', pattern),
    created: opts.now,
    modified: opts.now,
    pattern,
    pattern_type: 'stix',
    pattern_version: '2.1',
    valid_from: validFrom,
  };
  if (opts.validUntil !== undefined && isAfter(validFrom, opts.validUntil)) ind.valid_until = opts.validUntil;
  ind.name = opts.name ?? o.value;
  if (opts.description !== undefined && opts.description !== '') ind.description = opts.description;
  const types = opts.indicatorTypes ?? DEFAULT_INDICATOR_TYPES;
  if (types.length > 0) ind.indicator_types = [...types];
  if (opts.labels !== undefined && opts.labels.length > 0) ind.labels = [...opts.labels];
  if (opts.confidence !== undefined) ind.confidence = opts.confidence;
  if (opts.createdByRef !== undefined) ind.created_by_ref = opts.createdByRef;
  if (opts.markingRefs !== undefined && opts.markingRefs.length > 0) ind.object_marking_refs = [...opts.markingRefs];
  if (opts.externalReferences !== undefined && opts.externalReferences.length > 0)
    ind.external_references = opts.externalReferences.map((r) => ({ ...r }));
  return ind;
}
