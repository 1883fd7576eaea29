import type { Store } from '../store/contract.js';
import { LookupIndex } from './lookup-index.js';
import type { LookupIndexOptions } from './types.js';

export interface BuildIndexOptions extends LookupIndexOptions {
  /** Injected clock (epoch ms) deciding which indicators are still valid. */
  now?: () => number;
  /** Entries read per page (default 1,000 through activeIndicators(), 10,000 through changes()). */
  pageSize?: number;
}

/**
 * Builds the index from the store: through `activeIndicators()` when the store has it (only the
 * active indicators, with their stored observables), else from the whole change log (each entry
 * holds its object's latest state).
 */
export async function buildIndex(
  store: Store,
  opts: BuildIndexOptions = {},
): Promise<{ index: LookupIndex; seq: number }> {
  const index = new LookupIndex(opts);
  let seq = 0;
  if (store.activeIndicators) {
    // small pages: each page's parsed objects then die in the young generation (measured 1k ≈ 20% faster than 10k)
    const pageSize = opts.pageSize ?? 1_000;
    for (;;) {
      const page = await store.activeIndicators(seq, pageSize);
      for (const entry of page.indicators) index.load(entry);
      if (page.next > seq) seq = page.next;
      if (page.done || page.indicators.length === 0) break;
    }
  } else {
    seq = (await applyChangeLog(store, index, 0, opts.pageSize)).seq;
  }
  index.seq = Math.max(index.seq, seq);
  return { index, seq };
}

/**
 * Applies the change log after `from` to `index`, a page at a time, up to the head (a short or
 * empty page, or a sequence that does not advance, ends it): the sequence reached and how many
 * changes were applied. Builds an index from a store without `activeIndicators()`, and catches a
 * restored snapshot up.
 */
export async function applyChangeLog(
  store: Store,
  index: Pick<LookupIndex, 'apply'>,
  from: number,
  pageSize = 10_000,
): Promise<{ seq: number; applied: number }> {
  let seq = from;
  let applied = 0;
  for (;;) {
    const page = await store.changes(seq, pageSize);
    for (const change of page.changes) index.apply(change);
    applied += page.changes.length;
    if (page.changes.length === 0 || page.next <= seq) break;
    seq = page.next;
    if (page.changes.length < pageSize) break;
  }
  return { seq, applied };
}
