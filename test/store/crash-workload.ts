import { createHash } from 'node:crypto';
import { canonicalize } from '../../src/core/canonical-json.js';
import type { StixObject } from '../../src/core/stix.js';
import type { IngestItem } from '../../src/store/contract.js';
import { DAY, T0, indicatorFor } from './fixtures.js';

export const CRASH_TOTAL = 20_000;
export const CRASH_BATCH = 2_000;
export const CRASH_BATCHES = CRASH_TOTAL / CRASH_BATCH;
const OVERLAP = 200;

/** Batch k: indicators [k*B, (k+1)*B), plus the last 200 of batch k-1 again (at-least-once overlap). */
export function crashBatch(k: number): IngestItem[] {
  const items: IngestItem[] = [];
  const from = Math.max(0, k * CRASH_BATCH - OVERLAP);
  for (let i = from; i < (k + 1) * CRASH_BATCH; i++) {
    items.push({ object: indicatorFor(i, { validUntil: T0 + 30 * DAY }), source: 'crash', confidence: 60 });
  }
  return items;
}

export function idsOfBatch(k: number): string[] {
  const out: string[] = [];
  for (let i = k * CRASH_BATCH; i < (k + 1) * CRASH_BATCH; i++) out.push(indicatorFor(i).id);
  return out;
}

/** The content hash the oracle expects for indicator n (everything but the store's x_stixgate). */
export function oracleHash(n: number): string {
  return contentHash(indicatorFor(n, { validUntil: T0 + 30 * DAY }));
}

export function contentHash(o: StixObject): string {
  const c = { ...o };
  delete c.x_stixgate;
  return createHash('sha256').update(canonicalize(c)).digest('hex');
}
