import type { StixObject, TlpLevel } from '../core/stix.js';
import type { ScoreHistoryEntry } from '../store/score-history.js';
import { visibleSources, type AccessPolicy } from './policy.js';

/**
 * The score history entries a reader with `ceiling` may see (docs/adr/0026-score-history.md): an
 * entry only when the reader sees every contribution behind its score (their TLP as `obj`, the
 * stored object, holds them now; a contribution's TLP only becomes stricter). Its score is then
 * the score of the reader's own view at that time, and its reason names only sources it sees; an
 * entry behind a hidden contribution is left out whole, so neither its score nor its time tells
 * of it.
 */
export function visibleHistory(
  obj: StixObject,
  history: readonly ScoreHistoryEntry[],
  ceiling: TlpLevel,
  policy: AccessPolicy,
): ScoreHistoryEntry[] {
  const visible = new Set(visibleSources(obj, ceiling, policy));
  return history.filter((e) => e.contributors.length > 0 && e.contributors.every((s) => visible.has(s)));
}
