import type { AccessPolicy } from '../access/policy.js';
import { visibleHistory } from '../access/score-history.js';
import type { StixObject, TlpLevel } from '../core/stix.js';
import type { Store } from '../store/contract.js';
import { SCORE_REASONS, type ScoreHistoryEntry } from '../store/score-history.js';

const names = { type: 'array', items: { type: 'string' } } as const;

/** `score_history` in `GET /api/v1/objects/:id` (docs/scoring.md §4a), oldest first. */
export const scoreHistorySchema = {
  type: 'array',
  description:
    "the indicator's score changes the caller may see (every contribution behind the score visible to it), oldest first, the newest 16 kept",
  items: {
    type: 'object',
    required: ['at', 'score', 'previous', 'reason', 'sources'],
    properties: {
      at: { type: 'string' },
      score: { type: 'integer' },
      previous: { type: 'integer' },
      reason: { type: 'string', enum: [...SCORE_REASONS] },
      sources: { ...names, description: 'the contributions whose change moved the score (source, enrichment)' },
      contributors: { ...names, description: 'every contribution behind the new score' },
    },
  },
} as const;

/**
 * The score history of a stored indicator as a reader with `ceiling` may see it; undefined for an
 * object that is no indicator or a store that keeps none.
 */
export async function scoreHistoryOf(
  store: Store,
  stored: StixObject,
  ceiling: TlpLevel,
  policy: AccessPolicy,
): Promise<ScoreHistoryEntry[] | undefined> {
  if (stored.type !== 'indicator' || !store.scoreHistory) return undefined;
  return visibleHistory(stored, await store.scoreHistory(stored.id), ceiling, policy);
}
