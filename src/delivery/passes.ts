/**
 * Passes of a sink run over the indicators the store holds, rather than over the change log: the
 * `--full` re-send, and the withdrawal of values a new publish filter withholds (docs/sinks.md).
 * Each reads the store a page at a time and sends that page's batches before it reads the next,
 * so memory holds one page, whatever the store size.
 */
import type { AccessPolicy } from '../access/policy.js';
import type { Change, Store } from '../store/contract.js';
import { recordsForChanges, type PublishCheck } from './select.js';
import type { CommonSinkConfig, SinkRecord } from './types.js';

/** Indicators read per page. */
export const PASS_PAGE_SIZE = 1000;

/** What a pass needs of its run: the store, the sink's view and filters, and how its batches are cut and sent. */
export interface PassContext {
  store: Store;
  signal: AbortSignal;
  config: CommonSinkConfig;
  mapping: Record<string, string>;
  now: () => number;
  publish?: PublishCheck;
  access?: AccessPolicy;
  /** Cuts records into the sink's batches. */
  batches(records: SinkRecord[]): SinkRecord[][];
  /** Sends (or, in a dry run, plans) batches; throws on the first failure. */
  send(batches: SinkRecord[][]): Promise<void>;
}

/** The stored indicators (revoked ones left out), a page at a time, each as an `upsert` change. */
export async function forEachIndicatorPage(store: Store, signal: AbortSignal, fn: (changes: Change[]) => Promise<void>): Promise<void> {
  let after: string | undefined;
  do {
    if (signal.aborted) return;
    const page = await store.query({ type: 'indicator', limit: PASS_PAGE_SIZE, after });
    after = page.next;
    await fn(page.objects.map((object) => ({ seq: 0, id: object.id, type: object.type, op: 'upsert' as const, object })));
  } while (after);
}

/** The records of a page of indicators as the sink sees them now (view, filters, publish check). */
function recordsNow(p: PassContext, changes: Change[]): SinkRecord[] {
  return recordsForChanges(changes, p.config, p.mapping, p.now(), p.publish, undefined, p.access);
}

/** `--full`: every active indicator, as upserts. */
export function resendActive(p: PassContext): Promise<void> {
  return forEachIndicatorPage(p.store, p.signal, (changes) => p.send(p.batches(recordsNow(p, changes).filter((r) => r.op === 'upsert'))));
}

/**
 * After a change of the publish filter: a removal (reason `warninglist`) for every active value the
 * filter now withholds, whether or not the sink holds it (removals are idempotent). Returns how
 * many were sent.
 */
export async function withdrawWithheld(p: PassContext): Promise<number> {
  let n = 0;
  await forEachIndicatorPage(p.store, p.signal, async (changes) => {
    const records = recordsNow(p, changes).filter((r) => r.op === 'remove' && r.reason === 'warninglist');
    n += records.length;
    if (records.length) await p.send(p.batches(records));
  });
  return n;
}
