import type { SourceProvenance } from '../core/stix.js';

/** Confidence assumed for a source that gave none. */
export const DEFAULT_CONFIDENCE = 50;
/** Points added for every independent source beyond the first. */
export const POINTS_PER_EXTRA_SOURCE = 10;

/**
 * Placeholder indicator score (0-100) from provenance:
 *
 *   score = min(100, round(maxConfidence + 10 * (independentSources - 1)))
 *
 * where maxConfidence is the highest confidence any source gave (50 when none gave one) and
 * independentSources is the number of configured sources that delivered the object.
 * Age decay and sightings come later; the formula is deliberately simple and monotone in both
 * inputs, so that merging never lowers a score.
 */
export function scoreFromSources(sources: Readonly<Record<string, SourceProvenance>>): number {
  let n = 0;
  let max: number | undefined;
  for (const key of Object.keys(sources)) {
    n++;
    const c = sources[key].confidence;
    if (typeof c === 'number' && Number.isFinite(c) && (max === undefined || c > max)) max = c;
  }
  if (n === 0) return 0;
  const base = max ?? DEFAULT_CONFIDENCE;
  const raw = Math.round(base + POINTS_PER_EXTRA_SOURCE * (n - 1));
  return Math.max(0, Math.min(100, raw));
}
