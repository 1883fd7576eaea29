/**
 * Passes of a sink run over the indicators the store holds, rather than over the change log: the
 * `--full` re-send, the withdrawal of values a new publish filter withholds, and the remote expiry
 * refresh (docs/sinks.md).
 * Each reads the store a page at a time and sends that page's batches before it reads the next,
 * so memory holds one page, whatever the store size.
 */
import type { AccessPolicy } from '../access/policy.js';
import type { Change, Store } from '../store/contract.js';
import type { StixObject } from '../core/stix.js';
import { recordsForChanges, type PublishCheck } from './select.js';
import type { CommonSinkConfig, SinkRecord } from './types.js';
import { isRecord } from '../core/guards.js';

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
export async function forEachIndicatorPage(
  store: Store,
  signal: AbortSignal,
  fn: (changes: Change[]) => Promise<void>,
): Promise<void> {
  let after: string | undefined;
  do {
    if (signal.aborted) return;
    const page = await store.query({ type: 'indicator', limit: PASS_PAGE_SIZE, after });
    after = page.next;
    await fn(asUpserts(page.objects));
  } while (after);
}

/** Stored objects as `upsert` changes (a pass judges each one's current state). */
function asUpserts(objects: StixObject[]): Change[] {
  return objects.map((object) => ({ seq: 0, id: object.id, type: object.type, op: 'upsert' as const, object }));
}

/** The records of a page of indicators as the sink sees them now (view, filters, publish check). */
function recordsNow(p: PassContext, changes: Change[]): SinkRecord[] {
  return recordsForChanges(changes, p.config, p.mapping, p.now(), p.publish, undefined, p.access);
}

/** `--full`: every active indicator, as upserts. */
export function resendActive(p: PassContext): Promise<void> {
  return forEachIndicatorPage(p.store, p.signal, (changes) =>
    p.send(p.batches(recordsNow(p, changes).filter((r) => r.op === 'upsert'))),
  );
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

/** Where a sink's refresh cycle stands (kept as JSON in the store's named cursor `sink-refresh:<id>`). */
export interface RefreshState {
  /** When the next cycle starts (epoch ms). */
  due: number;
  /** When the cycle in progress started. */
  started?: number;
  /** The store's query position of the cycle in progress. */
  after?: string;
}

/** The refresh state as kept in the store's cursor (written by refreshPass); undefined, a new cycle, when it holds no `due`. */
export function refreshStateOf(text: string): RefreshState | undefined {
  const v: unknown = JSON.parse(text);
  if (!isRecord(v) || typeof v.due !== 'number') return undefined;
  return {
    due: v.due,
    ...(typeof v.started === 'number' ? { started: v.started } : {}),
    ...(typeof v.after === 'string' ? { after: v.after } : {}),
  };
}

/**
 * One slice of the remote expiry refresh: every `intervalMs` a cycle re-sends, as upserts, the
 * values of every indicator still valid for the sink, at most `maxPerRun` indicators per run, so
 * that remote systems that age values out (QRadar's time to live, XSOAR's expiration) hear of them
 * again before they lapse. The first cycle is due `intervalMs` after the sink is first seen (the
 * push then sent everything). Returns the new state and how many values were re-sent.
 */
export async function refreshSlice(
  p: PassContext,
  state: RefreshState | undefined,
  o: { intervalMs: number; maxPerRun: number },
): Promise<{ state: RefreshState; refreshed: number }> {
  const now = p.now();
  if (!state) return { state: { due: now + o.intervalMs }, refreshed: 0 };
  let s: RefreshState = { ...state };
  let started = s.started;
  if (started === undefined) {
    if (now < s.due) return { state: s, refreshed: 0 };
    started = now;
    s = { due: s.due, started };
  }
  let left = o.maxPerRun;
  let refreshed = 0;
  while (left > 0 && !p.signal.aborted) {
    const page = await p.store.query({ type: 'indicator', limit: Math.min(PASS_PAGE_SIZE, left), after: s.after });
    left -= page.objects.length;
    const records = recordsNow(p, asUpserts(page.objects)).filter((r) => r.op === 'upsert');
    if (records.length) await p.send(p.batches(records));
    refreshed += records.length;
    if (page.next === undefined) return { state: { due: started + o.intervalMs }, refreshed };
    s.after = page.next;
  }
  return { state: s, refreshed };
}
