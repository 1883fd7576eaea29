/**
 * Re-scoring: decay moves scores with time alone, so a periodic job brings stored scores to
 * `now`, writing only those that moved by at least `step` points or expired (each write is a
 * change-log entry: `upsert`, or `expire` below `expire_below`, so sinks update or remove).
 */
import type { StixObject } from '../core/stix.js';
import type { Store } from './contract.js';
import {
  applyScore,
  restoreSourceValidUntil,
  scoreExtension,
  type ScoreExtension,
  type ScoreState,
  type Scoring,
} from '../score/model.js';

export interface Recomputed {
  next: StixObject;
  state: ScoreState;
  expired: boolean;
}

/**
 * The indicator's state with its score fields recomputed at `now` (after `change` edits a copy
 * of its `x_stixgate`): score, scored_at, derived valid_until, and the expiry flag (set when the
 * score's expiry time or valid_until has passed, cleared otherwise). Never mutates `obj`.
 */
export function recompute(
  obj: StixObject,
  sc: Scoring,
  now: number,
  change?: (ext: ScoreExtension) => void,
): Recomputed {
  const ext: ScoreExtension = { ...(scoreExtension(obj) ?? { sources: {} }) };
  change?.(ext);
  const next: StixObject = { ...obj, x_stixgate: ext };
  restoreSourceValidUntil(next);
  const state = applyScore(next, sc, now);
  const vu = typeof next.valid_until === 'string' ? Date.parse(next.valid_until) : NaN;
  const expired = state.expiresAtMs <= now || (!Number.isNaN(vu) && vu <= now);
  if (expired) ext.expired = true;
  else {
    delete ext.expired;
    delete ext.never_active;
  }
  return { next, state, expired };
}

/**
 * The new state of a stored object at `now` for the re-score job, or undefined when nothing is
 * to be written: only active, unrevoked indicators; a write when the score moved by `step` or
 * more, when it expired, or when the derived valid_until changed (a new configuration).
 * Expired indicators stay expired here (a new delivery or a sighting revives them).
 */
export function rescoreObject(obj: StixObject, sc: Scoring, now: number): StixObject | undefined {
  if (obj.type !== 'indicator' || obj.revoked === true) return undefined;
  const old = scoreExtension(obj);
  if (old?.expired === true) return undefined;
  const r = recompute(obj, sc, now);
  if (r.expired) return r.next;
  const prev = old?.score;
  if (typeof prev !== 'number' || Math.abs(r.state.score - prev) >= sc.step) return r.next;
  if (r.next.valid_until !== obj.valid_until) return r.next;
  return undefined;
}

export interface RescoreOptions {
  /** Indicators read per page (query limit, at most 1000). */
  pageSize?: number;
  /** Stop between pages when aborted (the next run starts over). */
  signal?: AbortSignal;
}

export interface RescoreReport {
  scanned: number;
  /** Score changes written as `upsert`. */
  updated: number;
  /** Expiries written as `expire`. */
  expired: number;
  pages: number;
  rejected: number;
}

/**
 * One pass of the re-score job over the store's indicators, in pages (memory: one page). Works on
 * any Store (query + modify). Run it under a lease on a shared store.
 */
export async function rescoreStore(
  store: Store,
  sc: Scoring,
  now: number,
  opts: RescoreOptions = {},
): Promise<RescoreReport> {
  const report: RescoreReport = { scanned: 0, updated: 0, expired: 0, pages: 0, rejected: 0 };
  const limit = Math.min(1000, Math.max(1, opts.pageSize ?? 1000));
  let after: string | undefined;
  for (;;) {
    if (opts.signal?.aborted) break;
    const page = await store.query({ type: 'indicator', limit, ...(after !== undefined ? { after } : {}) });
    report.pages++;
    report.scanned += page.objects.length;
    const due: string[] = [];
    let expiring = 0;
    for (const o of page.objects) {
      const next = rescoreObject(o, sc, now);
      if (next === undefined) continue;
      due.push(o.id);
      if (next.x_stixgate?.expired === true) expiring++;
    }
    if (due.length > 0) {
      const r = await store.modify(due, (cur) => rescoreObject(cur, sc, now), { now });
      // a concurrent writer may have changed some in between: count what the pre-check saw,
      // bounded by what was written
      const written = r.updated;
      const exp = Math.min(expiring, written);
      report.expired += exp;
      report.updated += written - exp;
      report.rejected += r.rejected.length;
    }
    if (page.next === undefined) break;
    after = page.next;
  }
  return report;
}
