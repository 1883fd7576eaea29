import type { Observable, ObservableType, StixObject } from '../core/stix.js';
import type { Change } from '../store/contract.js';
import { indicatorObservables } from '../core/object-observables.js';
import { DEFAULT_ENRICHER_CEILING, DEFAULT_POLICY, canSee, type AccessPolicy } from '../access/policy.js';
import type { TlpLevel } from '../core/stix.js';

/**
 * Which changes of the change log an enricher looks at, and for which values.
 */

export type SkipReason = 'not_indicator' | 'inactive' | 'no_values' | 'tlp';

export interface Candidate {
  change: Change;
  /** The observables of the enricher's types (ranges left out: a service reports on one value). */
  values: Observable[];
  /** True when the change came from an enricher (its newest provenance is an `enrich:*` source). */
  byEnrichment: boolean;
}

const ENRICH_PREFIX = 'enrich:';

/** Active: an upsert of an object that is neither revoked, expired nor past its valid_until. */
export function isActive(change: Change, now: number): boolean {
  if (change.op !== 'upsert') return false;
  const o = change.object;
  if (o.revoked === true || o.x_stixgate?.expired === true) return false;
  if (typeof o.valid_until === 'string') {
    const t = Date.parse(o.valid_until);
    if (!Number.isNaN(t) && t <= now) return false;
  }
  return true;
}

/**
 * True when the newest provenance of the object belongs to an enricher: its latest `enrich:*`
 * last_seen is at or after every other source's. Enrichers re-deliver an indicator with their
 * own provenance to carry their signal; that write must not start another round of lookups.
 */
export function changedByEnrichment(o: StixObject): boolean {
  const sources = o.x_stixgate?.sources;
  if (!sources) return false;
  let enrich = '';
  let other = '';
  for (const [name, p] of Object.entries(sources)) {
    const seen = typeof p?.last_seen === 'string' ? p.last_seen : '';
    if (name.startsWith(ENRICH_PREFIX)) {
      if (seen > enrich) enrich = seen;
    } else if (seen > other) other = seen;
  }
  return enrich !== '' && enrich >= other;
}

/**
 * Classifies one change for an enricher of `types` with TLP ceiling `ceiling`: a value goes to a
 * third-party service only when a contribution at or below the ceiling lists it (src/access).
 */
export function selectChange(
  change: Change,
  types: ReadonlySet<ObservableType>,
  now: number,
  ceiling: TlpLevel = DEFAULT_ENRICHER_CEILING,
  access: AccessPolicy = DEFAULT_POLICY,
): Candidate | SkipReason {
  if (change.type !== 'indicator') return 'not_indicator';
  if (!isActive(change, now)) return 'inactive';
  if (!canSee(change.object, ceiling, access)) return 'tlp';
  const values = indicatorObservables(change.object).filter((v) => types.has(v.type) && v.cidr !== true);
  if (values.length === 0) return 'no_values';
  return { change, values, byEnrichment: changedByEnrichment(change.object) };
}
