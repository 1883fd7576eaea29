import { validate } from '../../src/core/schema.js';
import { compileScoring, type Scoring } from '../../src/score/model.js';
import { scoringSchema } from '../../src/score/schema.js';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
export const T0 = Date.parse('2026-03-01T00:00:00.000Z');
export const iso = (ms: number): string => new Date(ms).toISOString();

/** A compiled `scoring:` section from YAML-shaped input (throws with the issues when invalid). */
export function scoring(input: Record<string, unknown> = {}): Scoring {
  const r = validate(scoringSchema, input, 'scoring');
  if (!r.ok) throw new Error(r.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  return compileScoring(r.value);
}

/** IPv4 half-life 7 days, files MISP polynomial, expiry below 20, step 5. */
export const STANDARD = (): Scoring =>
  scoring({
    expire_below: 20,
    step: 5,
    models: {
      'ipv4-addr': { curve: 'exponential', half_life_days: 7 },
      file: { curve: 'polynomial', lifetime_days: 730, decay_speed: 0.5 },
      url: { curve: 'linear', lifetime_days: 30 },
    },
  });
