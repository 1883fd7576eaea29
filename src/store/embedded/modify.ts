import type { StixObject } from '../../core/stix.js';
import type { ModifyFn, ModifyResult } from '../contract.js';
import { storedObject } from '../stored-object.js';
import { storedJson } from '../merge.js';
import { scoreChange, type ScoreHistoryEntry } from '../score-history.js';

/** One write decided by a modify function: the stored JSON it was computed from, and the new state. */
export interface ModifyWrite {
  id: string;
  /** The stored JSON `fn` was given; the write applies only while the row still holds it. */
  expect: string;
  next: StixObject;
  json: string;
  /** The score history entry of this write, when it changes the score. */
  history?: ScoreHistoryEntry;
}

/**
 * Runs `fn` over the stored JSON of each id (`stored`: id → JSON, absent ids are missing) and
 * returns the writes to make. Counts missing, unchanged and rejected ids into `result`; the
 * writes are counted by whoever applies them. Shared by the in-thread store (which applies the
 * writes in the same transaction) and the threaded one (which applies them in the writer and
 * runs `fn` again on the ids whose row changed meanwhile).
 */
export function planModify(
  ids: readonly string[],
  stored: ReadonlyMap<string, string>,
  fn: ModifyFn,
  result: ModifyResult,
  now: number,
): ModifyWrite[] {
  const writes: ModifyWrite[] = [];
  for (const id of ids) {
    const expect = stored.get(id);
    if (expect === undefined) {
      result.missing++;
      continue;
    }
    const cur = storedObject(expect);
    const type = cur.type;
    const oldScore = cur.x_stixgate?.score;
    const next = fn(cur);
    let json: string | undefined;
    try {
      json = next === undefined ? undefined : storedJson(next);
    } catch (e) {
      // canonical JSON refuses values with no JSON form (NaN, Infinity, BigInt)
      if (!(e instanceof TypeError)) throw e;
      result.rejected.push({
        reason: 'stix_invalid',
        message: `object ${id} is not serialisable: ${e.message}`,
        location: { objectId: id },
      });
      continue;
    }
    if (next === undefined || json === undefined || json === expect) {
      result.unchanged++;
      continue;
    }
    if (next.id !== id || next.type !== type) {
      result.rejected.push({
        reason: 'stix_invalid',
        message: `modify of ${id} may not change its id or type`,
        location: { objectId: id },
      });
      continue;
    }
    // `fn` may have edited `cur`: the change is taken against the stored JSON
    const change = next.x_stixgate?.score !== oldScore ? scoreChange(JSON.parse(expect), next, now) : undefined;
    writes.push(change ? { id, expect, next, json, history: change } : { id, expect, next, json });
  }
  return writes;
}
