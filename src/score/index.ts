export {
  CURVES,
  decayModelSchema,
  defaultModels,
  scoringSchema,
  type Curve,
  type DecayModelConfig,
  type ScoringConfig,
} from './schema.js';
export { NO_DECAY, daysUntilBelow, decayFactor, type DecayModel } from './curves.js';
export {
  DAY_MS,
  ENRICH_PREFIX,
  NO_DECAY_SCORING,
  applyScore,
  baseScore,
  compileScoring,
  modelFor,
  referenceTime,
  scoreAt,
  scoredType,
  type ScoreExtension,
  type ScoreState,
  type Scoring,
  type SightingSummary,
} from './model.js';
