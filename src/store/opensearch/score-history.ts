import type { StixObject } from '../../core/stix.js';
import { appendHistory, packHistory, scoreChange, unpackHistory } from '../score-history.js';
import type { Existing } from './documents.js';

/**
 * The `score_history` field of the document written for `obj` over the stored `cur`
 * (docs/adr/0026-score-history.md): the stored entries, plus one when this write changes the
 * score, the newest SCORE_HISTORY_CAP kept. Written with the document in the same request, under
 * the same optimistic-concurrency check, so a conflict re-merges it with the object. Undefined
 * when there is nothing to keep.
 */
export function nextScoreHistory(cur: Existing | undefined, obj: StixObject, now: number): string | undefined {
  const change = cur ? scoreChange(cur.obj, obj, now) : undefined;
  if (!change) return cur?.history;
  return packHistory(appendHistory(unpackHistory(cur?.history), change));
}
