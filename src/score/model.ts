/**
 * The indicator score (docs/scoring.md): a base score from provenance, sightings and enrichment
 * signals, decayed with age by the model of the indicator's observable type. Pure functions of
 * the stored object and an evaluation time.
 */
import { stixTime, type SourceProvenance, type StixObject, type StixgateExtension } from '../core/stix.js';
import { NO_DECAY, daysUntilBelow, decayFactor, toModel, type DecayModel } from './curves.js';
import type { ScoringConfig } from './schema.js';
import { hasStixPattern } from '../core/object-observables.js';

export const DAY_MS = 86_400_000;
/** Provenance keys of enrichment results: they modulate the score, they are not independent sources. */
export const ENRICH_PREFIX = 'enrich:';

/** What the sightings API keeps on an indicator (`x_stixgate.sightings`). */
export interface SightingSummary {
  count: number;
  first_seen: string;
  last_seen: string;
}

/** `x_stixgate` as scoring reads and writes it (its score fields are declared in src/core/stix.ts). */
export type ScoreExtension = StixgateExtension;

/** The compiled `scoring:` configuration. */
export interface Scoring {
  readonly defaultConfidence: number;
  readonly pointsPerExtraSource: number;
  readonly sightingPoints: number;
  readonly maxSightingPoints: number;
  readonly enrichmentWeight: number;
  /** Integer: a rounded score below this expires. 0 = never. */
  readonly expireBelow: number;
  readonly step: number;
  readonly models: ReadonlyMap<string, DecayModel>;
  readonly defaultModel: DecayModel;
}

export function compileScoring(c: ScoringConfig): Scoring {
  const models = new Map<string, DecayModel>();
  for (const [key, model] of Object.entries(c.models)) if (key !== 'default') models.set(key, toModel(model));
  return Object.freeze({
    defaultConfidence: c.default_confidence,
    pointsPerExtraSource: c.points_per_extra_source,
    sightingPoints: c.sighting_points,
    maxSightingPoints: c.max_sighting_points,
    enrichmentWeight: c.enrichment_weight,
    expireBelow: c.expire_below,
    step: c.step,
    models,
    defaultModel: Object.hasOwn(c.models, 'default') && c.models.default ? toModel(c.models.default) : NO_DECAY,
  });
}

/**
 * What a store uses when it is given no scoring configuration (tools, tests): the base formula
 * with its default weights, no decay, no score-based expiry.
 */
export const NO_DECAY_SCORING: Scoring = Object.freeze({
  defaultConfidence: 50,
  pointsPerExtraSource: 10,
  sightingPoints: 5,
  maxSightingPoints: 25,
  enrichmentWeight: 0.4,
  expireBelow: 0,
  step: 5,
  models: new Map<string, DecayModel>(),
  defaultModel: NO_DECAY,
});

export function scoreExtension(obj: StixObject): ScoreExtension | undefined {
  return obj.x_stixgate;
}

// A batch's objects share their timestamps: the last conversion each way is remembered.
let lastText: string | undefined;
let lastMs: number | undefined;
const isoMs: [number, number] = [NaN, NaN];
const isoText: [string, string] = ['', ''];

function ms(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  if (s !== lastText) {
    const t = Date.parse(s);
    lastMs = Number.isNaN(t) ? undefined : t;
    lastText = s;
  }
  return lastMs;
}

/** stixTime with a two-entry memo per use (slot 0: scored_at, slot 1: valid_until). */
function isoTime(t: number, slot: 0 | 1): string {
  if (t !== isoMs[slot]) {
    isoText[slot] = stixTime(t);
    isoMs[slot] = t;
  }
  return isoText[slot];
}

const clamp = (x: number): number => Math.min(100, Math.max(0, x));

/**
 * The base score (unrounded, 0-100):
 *   c_max + points_per_extra_source × (n − 1) + min(max_sighting_points, sighting_points × log2(1 + k))
 *         + enrichment_weight × (mean enrichment maliciousness − 50)
 * over the n independent sources (provenance keys not starting with `enrich:`), c_max their
 * highest confidence (default_confidence when none gave one), k the sighting count.
 */
export function baseScore(
  sources: Readonly<Record<string, SourceProvenance>>,
  sightings: SightingSummary | undefined,
  sc: Scoring,
): number {
  let n = 0;
  let max: number | undefined;
  let enrichSum = 0;
  let enrichN = 0;
  for (const [key, p] of Object.entries(sources)) {
    const c = p.confidence;
    const valid = typeof c === 'number' && Number.isFinite(c);
    if (key.startsWith(ENRICH_PREFIX)) {
      if (valid) {
        enrichSum += clamp(c);
        enrichN++;
      }
      continue;
    }
    n++;
    if (valid && (max === undefined || c > max)) max = c;
  }
  let raw = n === 0 ? 0 : (max ?? sc.defaultConfidence) + sc.pointsPerExtraSource * (n - 1);
  const k = sightings && Number.isFinite(sightings.count) && sightings.count > 0 ? sightings.count : 0;
  if (k > 0) raw += Math.min(sc.maxSightingPoints, sc.sightingPoints * Math.log2(1 + k));
  if (enrichN > 0) raw += sc.enrichmentWeight * (enrichSum / enrichN - 50);
  return clamp(raw);
}

/**
 * The time age is measured from (epoch ms): the latest `last_seen` of an independent source or
 * of the sightings; else `valid_from`, else `created`; undefined when none parses.
 */
export function referenceTime(obj: StixObject): number | undefined {
  const ext = scoreExtension(obj);
  let ref: number | undefined;
  const sources = ext?.sources ?? {};
  for (const [key, p] of Object.entries(sources)) {
    if (key.startsWith(ENRICH_PREFIX)) continue;
    const t = ms(p.last_seen);
    if (t !== undefined && (ref === undefined || t > ref)) ref = t;
  }
  const st = ms(ext?.sightings?.last_seen);
  if (st !== undefined && (ref === undefined || st > ref)) ref = st;
  return ref ?? ms(obj.valid_from) ?? ms(obj.created);
}

const PATTERN_TYPE_RE = /\[\s*([a-z0-9-]+)\s*:/;

/** The observable type the model is chosen by: the first object type the pattern compares. */
export function scoredType(obj: StixObject): string | undefined {
  if (!hasStixPattern(obj)) return undefined;
  return PATTERN_TYPE_RE.exec(obj.pattern)?.[1];
}

export function modelFor(obj: StixObject, sc: Scoring): DecayModel {
  const type = scoredType(obj);
  return (type !== undefined ? sc.models.get(type) : undefined) ?? sc.defaultModel;
}

export interface ScoreState {
  /** Unrounded base score. */
  base: number;
  /** The rounded, decayed score at the evaluation time. */
  score: number;
  /** The reference time (ms); undefined when none parses or when it does not matter (no decay, no expiry). */
  refMs: number | undefined;
  /** When the rounded score first falls below `expire_below` (ms); Infinity = never. */
  expiresAtMs: number;
  model: DecayModel;
}

/** The score of an indicator at time `t` (epoch ms), from its stored state. */
export function scoreAt(obj: StixObject, sc: Scoring, t: number): ScoreState {
  const ext = scoreExtension(obj);
  const base = baseScore(ext?.sources ?? {}, ext?.sightings, sc);
  const model = modelFor(obj, sc);
  // a rounded score below the (integer) threshold ⇔ a raw score below threshold − ½
  const below = daysUntilBelow(model, base, sc.expireBelow - 0.5);
  if (model.curve === 'none' && below === Infinity) {
    // no decay and no expiry: the age does not matter
    return { base, score: Math.round(base), refMs: undefined, expiresAtMs: Infinity, model };
  }
  const refMs = referenceTime(obj);
  const ageDays = refMs === undefined ? 0 : (t - refMs) / DAY_MS;
  let score = Math.round(base * decayFactor(model, ageDays));
  const expiresAtMs = below === Infinity ? Infinity : (refMs ?? t) + Math.ceil(below * DAY_MS);
  // one definition of expiry: past expiresAt the score is below the threshold, also where
  // floating point rounding at the boundary says otherwise
  if (t >= expiresAtMs && score >= sc.expireBelow) score = Math.max(0, sc.expireBelow - 1);
  return { base, score, refMs, expiresAtMs, model };
}

/**
 * Writes the score fields of an indicator whose `x_stixgate.sources`/`sightings` are final and
 * whose `valid_until` is what its sources gave (absent when none did): `score` at time `t`,
 * `scored_at` (decaying models only), and `valid_until` never later than the time the score falls
 * below `expire_below`: derived from the decay when no source gave one, or when the sources' value
 * is later (then kept as `source_valid_until`). Mutates `obj` and its `x_stixgate` (fresh copies the
 * caller owns).
 */
export function applyScore(obj: StixObject, sc: Scoring, t: number): ScoreState {
  const ext: ScoreExtension = obj.x_stixgate ?? { sources: {} };
  obj.x_stixgate = ext;
  // `delete` only where the key is there: deleting turns objects into slow dictionaries
  if (ext.derived_valid_until !== undefined) delete ext.derived_valid_until;
  if (ext.source_valid_until !== undefined) delete ext.source_valid_until;
  const state = scoreAt(obj, sc, t);
  ext.score = state.score;
  if (state.model.curve !== 'none') ext.scored_at = isoTime(t, 0);
  else if (ext.scored_at !== undefined) delete ext.scored_at;
  if (state.expiresAtMs !== Infinity) {
    // STIX: valid_until must be later than valid_from
    const from = ms(obj.valid_from);
    const at = from !== undefined && state.expiresAtMs <= from ? from + 1000 : state.expiresAtMs;
    const given = obj.valid_until;
    const givenMs = typeof given === 'string' ? Date.parse(given) : NaN;
    if (given === undefined || (!Number.isNaN(givenMs) && at < givenMs)) {
      if (typeof given === 'string') ext.source_valid_until = given;
      obj.valid_until = isoTime(at, 1);
      ext.derived_valid_until = true;
    }
  }
  return state;
}

/** The valid_until the sources gave (undefined when none did). */
export function sourceValidUntil(obj: StixObject): unknown {
  const ext = scoreExtension(obj);
  return ext?.derived_valid_until === true ? ext.source_valid_until : obj.valid_until;
}

/** Puts back the sources' valid_until on `obj` (a copy the caller owns) before its score is applied again. */
export function restoreSourceValidUntil(obj: StixObject, from: StixObject = obj): void {
  if (scoreExtension(from)?.derived_valid_until !== true) return;
  const given = scoreExtension(from)?.source_valid_until;
  if (given === undefined) delete obj.valid_until;
  else obj.valid_until = given;
}
