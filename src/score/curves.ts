import type { DecayModelConfig } from './schema.js';

/**
 * Decay curves: the factor in [0, 1] an indicator's base score is multiplied by at an age of
 * `t` days, and the age at which a base score falls below a threshold (docs/scoring.md §2).
 *
 *   none         d(t) = 1
 *   exponential  d(t) = 2^(−t / half_life)
 *   polynomial   d(t) = 1 − (t / τ)^(1/δ)   for t < τ, else 0   (MISP's decaying model)
 *   linear       d(t) = 1 − t / τ           for t < τ, else 0   (polynomial with δ = 1)
 */
export interface DecayModel {
  readonly curve: DecayModelConfig['curve'];
  /** exponential: half-life in days. */
  readonly halfLifeDays?: number;
  /** polynomial, linear: τ, days until the factor reaches 0. */
  readonly lifetimeDays?: number;
  /** polynomial: δ (default 1). */
  readonly decaySpeed?: number;
}

export const NO_DECAY: DecayModel = Object.freeze({ curve: 'none' });

export function toModel(c: DecayModelConfig): DecayModel {
  return Object.freeze({
    curve: c.curve,
    ...(c.half_life_days !== undefined ? { halfLifeDays: c.half_life_days } : {}),
    ...(c.lifetime_days !== undefined ? { lifetimeDays: c.lifetime_days } : {}),
    ...(c.decay_speed !== undefined ? { decaySpeed: c.decay_speed } : {}),
  });
}

/** The decay factor at an age of `days` (negative ages count as 0). */
export function decayFactor(m: DecayModel, days: number): number {
  // biome-ignore lint/complexity/useMathMinMax: an unreadable age (NaN) counts as 0 here, which Math.max would not do
  const t = days > 0 ? days : 0;
  switch (m.curve) {
    case 'none':
      return 1;
    case 'exponential':
      return 2 ** (-t / (m.halfLifeDays as number));
    case 'polynomial':
    case 'linear': {
      const tau = m.lifetimeDays as number;
      if (t >= tau) return 0;
      const delta = m.curve === 'linear' ? 1 : (m.decaySpeed ?? 1);
      return 1 - (t / tau) ** (1 / delta);
    }
  }
}

/**
 * The age in days at which `base × d(t)` first drops below `threshold`: 0 when the base is
 * already below it, Infinity when it never does (no decay, or a threshold of 0).
 */
export function daysUntilBelow(m: DecayModel, base: number, threshold: number): number {
  if (base < threshold) return 0;
  if (threshold <= 0 || m.curve === 'none') return Infinity;
  const ratio = threshold / base; // in (0, 1]
  switch (m.curve) {
    case 'exponential':
      // 2^(−t/h) < r  ⇔  t > h · log2(1/r)
      return (m.halfLifeDays as number) * Math.log2(1 / ratio);
    case 'polynomial':
    case 'linear': {
      // 1 − (t/τ)^(1/δ) < r  ⇔  t > τ · (1 − r)^δ
      const delta = m.curve === 'linear' ? 1 : (m.decaySpeed ?? 1);
      return (m.lifetimeDays as number) * (1 - ratio) ** delta;
    }
  }
}
