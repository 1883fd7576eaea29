import { s, type Infer, type Issue, type Schema } from '../core/schema.js';
import { OBSERVABLE_TYPES } from '../core/stix.js';

/**
 * `scoring:` (docs/scoring.md): how an indicator's 0-100 score is made from its provenance, its
 * sightings and enrichment signals, how it decays with age per observable type, and when it
 * expires. Models are keyed by observable type (`ipv4-addr`, `file`, …) or `default`.
 */

export const CURVES = ['none', 'exponential', 'polynomial', 'linear'] as const;
export type Curve = (typeof CURVES)[number];

const modelFields = s.object({
  curve: s.enum(CURVES, {
    description:
      '`none` (never decays), `exponential` (half-life), `polynomial` (MISP: 1 - (t/lifetime)^(1/decay_speed)), `linear`',
  }),
  half_life_days: s.number({
    optional: true,
    min: 0.001,
    max: 36500,
    description: 'exponential: days for the score to halve',
  }),
  lifetime_days: s.number({
    optional: true,
    min: 0.001,
    max: 36500,
    description: 'polynomial, linear: days until the score reaches 0',
  }),
  decay_speed: s.number({
    optional: true,
    min: 0.01,
    max: 100,
    description: 'polynomial: δ; above 1 drops fast early, below 1 holds then drops (default 1 = linear)',
  }),
});

export interface DecayModelConfig {
  curve: Curve;
  half_life_days?: number;
  lifetime_days?: number;
  decay_speed?: number;
}

const NEEDS: Record<Curve, readonly (keyof DecayModelConfig)[]> = {
  none: [],
  exponential: ['half_life_days'],
  polynomial: ['lifetime_days'],
  linear: ['lifetime_days'],
};
const ALLOWS: Record<Curve, readonly (keyof DecayModelConfig)[]> = {
  none: [],
  exponential: ['half_life_days'],
  polynomial: ['lifetime_days', 'decay_speed'],
  linear: ['lifetime_days'],
};

/** One decay model, with its cross-field rule: each curve takes exactly its own parameters. */
export const decayModelSchema: Schema<DecayModelConfig> = {
  kind: modelFields.kind,
  description: modelFields.description,
  optional: false,
  parse(value: unknown, path: string, issues: Issue[]) {
    const out = modelFields.parse(value, path, issues) as DecayModelConfig | undefined;
    if (!out || out.curve === undefined) return out;
    for (const key of NEEDS[out.curve]) {
      if (out[key] === undefined)
        issues.push({ path: `${path}.${key}`, message: `is required with curve ${out.curve}` });
    }
    for (const key of ['half_life_days', 'lifetime_days', 'decay_speed'] as const) {
      if (out[key] !== undefined && !ALLOWS[out.curve].includes(key))
        issues.push({ path: `${path}.${key}`, message: `does not apply to curve ${out.curve}` });
    }
    return out;
  },
};

// the configuration reference renders a model's keys
(decayModelSchema as { props?: unknown }).props = modelFields.props;

export const MODEL_KEYS: readonly string[] = [...OBSERVABLE_TYPES, 'default'];

const modelsRecord = s.record(decayModelSchema, { keyPattern: /^[a-z][a-z0-9-]{0,63}$/ });

/** `models:` with its keys checked against the observable types. */
const modelsSchema: Schema<Record<string, DecayModelConfig>> = {
  kind: modelsRecord.kind,
  description:
    "decay model per observable type of the indicator's pattern (the first one it compares), and `default` for the rest",
  optional: true,
  defaultValue: undefined,
  parse(value: unknown, path: string, issues: Issue[]) {
    if (value === undefined || value === null) return defaultModels();
    const out = modelsRecord.parse(value, path, issues);
    if (!out) return out;
    for (const key of Object.keys(out)) {
      if (!MODEL_KEYS.includes(key))
        issues.push({ path: `${path}.${key}`, message: `unknown observable type; known: ${MODEL_KEYS.join(', ')}` });
    }
    return out;
  },
};
(modelsSchema as { valueSchema?: Schema<DecayModelConfig> }).valueSchema = decayModelSchema;

/** The recommended models (used when `scoring.models` is omitted). */
export function defaultModels(): Record<string, DecayModelConfig> {
  return {
    'ipv4-addr': { curve: 'exponential', half_life_days: 7 },
    'ipv6-addr': { curve: 'exponential', half_life_days: 7 },
    url: { curve: 'exponential', half_life_days: 14 },
    'domain-name': { curve: 'exponential', half_life_days: 30 },
    'email-addr': { curve: 'exponential', half_life_days: 30 },
    file: { curve: 'polynomial', lifetime_days: 730, decay_speed: 0.5 },
    'x509-certificate': { curve: 'polynomial', lifetime_days: 365, decay_speed: 0.5 },
    default: { curve: 'polynomial', lifetime_days: 180, decay_speed: 1 },
  };
}

export const scoringSchema = s.object(
  {
    default_confidence: s.int({
      default: 50,
      min: 0,
      max: 100,
      description: "confidence of a source that gave none (set a source's own with `sources.<id>.confidence`)",
    }),
    points_per_extra_source: s.number({
      default: 10,
      min: 0,
      max: 100,
      description: 'points added for every independent source beyond the first',
    }),
    sighting_points: s.number({
      default: 5,
      min: 0,
      max: 100,
      description: 'points per doubling of the sighting count: sighting_points × log2(1 + count)',
    }),
    max_sighting_points: s.number({ default: 25, min: 0, max: 100, description: 'cap on the points sightings add' }),
    enrichment_weight: s.number({
      default: 0.4,
      min: 0,
      max: 2,
      description:
        'enrichment adds enrichment_weight × (mean maliciousness − 50) points (negative when services call it benign)',
    }),
    expire_below: s.int({
      default: 20,
      min: 0,
      max: 100,
      description: 'an indicator whose decayed score falls below this expires (sinks remove it)',
    }),
    step: s.int({
      default: 5,
      min: 1,
      max: 100,
      description:
        're-scoring writes a new score only when it moved by at least this many points (or crossed expire_below)',
    }),
    rescore_interval_secs: s.int({
      default: 3600,
      min: 60,
      max: 7 * 86400,
      description: 'how often stored scores are decayed (a bounded scan of active indicators)',
    }),
    rescore_page_size: s.int({
      default: 1000,
      min: 10,
      max: 1000,
      description: 'indicators read per page by the re-score job',
    }),
    models: modelsSchema,
  },
  {
    default: {
      default_confidence: 50,
      points_per_extra_source: 10,
      sighting_points: 5,
      max_sighting_points: 25,
      enrichment_weight: 0.4,
      expire_below: 20,
      step: 5,
      rescore_interval_secs: 3600,
      rescore_page_size: 1000,
      models: defaultModels(),
    },
    description: 'indicator scoring, decay and expiry (docs/scoring.md)',
  },
);

export type ScoringConfig = Infer<typeof scoringSchema>;
