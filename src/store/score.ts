import type { SourceProvenance } from '../core/stix.js';
import { NO_DECAY_SCORING, baseScore } from '../score/model.js';

/** Confidence assumed for a source that gave none (the default of `scoring.default_confidence`). */
export const DEFAULT_CONFIDENCE = NO_DECAY_SCORING.defaultConfidence;
/** Points added for every independent source beyond the first (default `scoring.points_per_extra_source`). */
export const POINTS_PER_EXTRA_SOURCE = NO_DECAY_SCORING.pointsPerExtraSource;

/**
 * The undecayed score (0-100) of provenance alone, with the default weights:
 *
 *   score = min(100, round(maxConfidence + 10 * (independentSources - 1)))
 *
 * where maxConfidence is the highest confidence any independent source gave (50 when none gave
 * one); `enrich:<id>` entries modulate instead of counting (±0.4 per point away from 50). The full
 * model (sightings, decay per observable type, expiry) is in src/score/ and docs/scoring.md.
 */
export function scoreFromSources(sources: Readonly<Record<string, SourceProvenance>>): number {
  return Math.round(baseScore(sources, undefined, NO_DECAY_SCORING));
}
