import type Bottleneck from 'bottleneck';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Change, Store } from '../store/contract.js';
import { isStixgateError, StixgateError, errorMessage } from '../core/errors.js';
import { abortableSleep, backoffDelay } from '../core/backoff.js';
import type { CommonSinkConfig, Sink, SinkOutcome, SinkRecord, SinkRunContext } from './types.js';
import type { HttpClient } from '../http/types.js';
import type { DeadLetterFile } from './dead-letter.js';
import { batchesOf, decide, recordsForChanges, type PublishCheck } from './select.js';
import { recordsFor } from './records.js';
import { refreshSlice, refreshStateOf, resendActive, withdrawWithheld, type PassContext } from './passes.js';
import type { AccessPolicy } from '../access/policy.js';
import type { LedgerUpdate } from '../store/ledger.js';
import { contributionsOf, ledgerUpdate } from './ledger.js';
import { at, first, entry } from '../core/indexed.js';

export const sinkCursorName = (sinkId: string): string => `sink:${sinkId}`;
/** The named cursor holding a sink's remote expiry refresh cycle (JSON, src/delivery/passes.ts). */
export const sinkRefreshName = (sinkId: string): string => `sink-refresh:${sinkId}`;
/** The named cursor holding the fingerprint of the publish filter a sink last ran under. */
export const sinkPublishName = (sinkId: string): string => `sink-publish:${sinkId}`;

export interface SinkRunOptions {
  id: string;
  sink: Sink;
  config: CommonSinkConfig;
  store: Store;
  http: HttpClient;
  logger: Logger;
  metrics?: Metrics;
  /** Field mapping table (remote field → attribute). */
  mapping: Record<string, string>;
  deadLetter: DeadLetterFile;
  /** The sink's limiter (one per configured sink, shared by its runs). */
  limiter: Bottleneck;
  signal: AbortSignal;
  now: () => number;
  publish?: PublishCheck;
  /**
   * The fingerprint of the publish filter behind `publish`. When it differs from the one the sink
   * last ran under, the run first withdraws every active value the filter now withholds.
   */
  publishVersion?: string;
  /** The access policy (default_tlp, scoring) the sink's view is computed under. */
  access?: AccessPolicy;
  /** Re-send every active indicator, then continue from the head captured before the scan. */
  full?: boolean;
  /** Build batches and count them; send nothing, commit nothing. */
  dryRun?: boolean;
  /** Change-log entries read per page (default 4 × batch × concurrency, at most 20,000). */
  pageSize?: number;
  /** Longest Retry-After waited inside a run; longer ends the run (the scheduler defers the job). */
  maxRetryAfterMs?: number;
}

export interface SinkRunSummary {
  changes: number;
  upserted: number;
  removed: number;
  rejected: number;
  retried: number;
  batches: number;
  /** Values re-sent by the remote expiry refresh (still valid, unchanged). */
  refreshed?: number;
  /** Dry run: the batches that would have been sent, by op, and a few sample records. */
  planned?: { upsert: number; remove: number; samples: SinkRecord[] };
  cursor: number;
  head: number;
}

/** A summary with every count at zero (`refreshed` included, as a push reports it). */
export function emptySummary(): SinkRunSummary {
  return { changes: 0, upserted: 0, removed: 0, rejected: 0, retried: 0, batches: 0, refreshed: 0, cursor: 0, head: 0 };
}

/**
 * One run of one sink (an outbox over the change log): read the change log after the sink's cursor, turn
 * each change into records (one per value), collapse repeats, batch them within the vendor's limits,
 * send them through the sink's limiter, and commit the cursor after each batch for the longest
 * prefix whose records the remote side acknowledged. A crash therefore repeats at most the batches
 * that were in flight (`concurrency`). Retryable failures are retried with back-off and Retry-After;
 * 401/403 pause the sink (the run ends, the cursor stays); rejected records go to the dead-letter file.
 */
export async function runSink(o: SinkRunOptions): Promise<SinkRunSummary> {
  const name = sinkCursorName(o.id);
  const limits = o.sink.limits;
  const ctx: SinkRunContext = {
    id: o.id,
    logger: o.logger,
    http: o.http,
    signal: o.signal,
    now: o.now(),
    gauge: (g, v) => {
      if (g === 'unacked') o.metrics?.sinkUnacked.set({ sink: o.id }, v);
    },
  };
  const sum = emptySummary();
  if (o.dryRun) sum.planned = { upsert: 0, remove: 0, samples: [] };
  let cursor = Number((await o.store.getCursor(name)) ?? 0);
  const head = await o.store.head();
  sum.head = head;
  // prepare() runs once per run, only when there is something to send (an idle run sends nothing);
  // it may learn the server's limits (e.g. Splunk's version), so batch sizes are read after it
  let prepared = o.dryRun === true;
  const prepare = async () => {
    if (prepared) return;
    await call(o, () => o.sink.prepare?.(ctx) ?? Promise.resolve(), 'prepare');
    prepared = true;
  };
  if (o.full || (await o.store.changes(cursor, 1)).changes.length) await prepare();
  const { maxBatch, concurrency } = inFlightLimits(limits, o.config);
  const pageSize = o.pageSize ?? Math.min(20_000, Math.max(1000, maxBatch * concurrency * 4));

  const pass: PassContext = {
    store: o.store,
    signal: o.signal,
    config: o.config,
    mapping: o.mapping,
    now: o.now,
    publish: o.publish,
    access: o.access,
    // limits read at each use: prepare() may lower them (it runs before the first batch is sent)
    batches: (records) =>
      batchesOf(records, inFlightLimits(limits, o.config).maxBatch, limits.maxBytes, o.sink.sizeOf?.bind(o.sink)),
    send: async (batches) => {
      if (o.dryRun) return plan(sum, batches);
      await prepare();
      const settled: LedgerUpdate[] = [];
      try {
        await sendAll(o, ctx, batches, inFlightLimits(limits, o.config).concurrency, sum, settled);
      } finally {
        if (settled.length) await o.store.commitDeliveries?.(o.id, settled, undefined, o.now());
      }
    },
  };
  if (!o.dryRun && o.publish && o.publishVersion !== undefined) await publishPass(o, pass, cursor, o.publishVersion);
  if (o.full) {
    await resendActive(pass);
    cursor = Math.max(cursor, head);
    if (!o.dryRun) await o.store.setCursor(name, String(cursor));
  }

  const withheld = (lists: string[]) => {
    for (const l of lists) o.metrics?.publishFiltered.inc({ list: l });
  };
  const build = async (changes: Change[]): Promise<Built> => {
    const skipped = new Map<string, LedgerUpdate>();
    const records = await keepShared(
      o,
      recordsForChanges(changes, o.config, o.mapping, o.now(), o.publish, withheld, o.access, skipped),
    );
    return {
      batches: batchesOf(records, Math.min(maxBatch, limits.maxBatch), limits.maxBytes, o.sink.sizeOf?.bind(o.sink)),
      skipped: [...skipped.values()],
    };
  };
  if (o.dryRun) {
    for (;;) {
      const page = await o.store.changes(cursor, pageSize);
      if (page.changes.length === 0 || o.signal.aborted) break;
      sum.changes += page.changes.length;
      plan(sum, (await build(page.changes)).batches);
      cursor = page.next;
    }
  } else {
    cursor = await pipeline(o, ctx, cursor, pageSize, concurrency, sum, build, async (c, settled) => {
      // the delivery ledger's updates for the batches this cursor covers, in the same transaction
      if (o.store.commitDeliveries) await o.store.commitDeliveries(o.id, settled, { name, value: String(c) }, o.now());
      else await o.store.setCursor(name, String(c));
      o.metrics?.sinkLag.set({ sink: o.id }, Math.max(0, head - c));
    });
  }
  sum.cursor = cursor;
  if (!o.dryRun && !o.signal.aborted) await refreshPass(o, pass, sum);
  if (!o.signal.aborted && !o.dryRun) {
    o.metrics?.sinkLag.set({ sink: o.id }, Math.max(0, (await o.store.head()) - cursor));
    o.metrics?.sinkLastSuccess.set({ sink: o.id }, o.now() / 1000);
    o.metrics?.sinkPaused.set({ sink: o.id }, 0);
  }
  return sum;
}

/** Records a sink may have sent but not yet committed, unless `max_in_flight_records` says otherwise. */
export const DEFAULT_MAX_IN_FLIGHT_RECORDS = 2000;

/**
 * Batch size and requests in flight for one run: the vendor's limits, lowered by the configured
 * `batch_size` and `concurrency`, then by `max_in_flight_records` (batch × concurrency never above
 * it), so that a crash repeats at most that many records.
 */
export function inFlightLimits(
  limits: Sink['limits'],
  c: Pick<CommonSinkConfig, 'batch_size' | 'concurrency' | 'max_in_flight_records'>,
): { maxBatch: number; concurrency: number } {
  const budget = Math.max(1, c.max_in_flight_records ?? DEFAULT_MAX_IN_FLIGHT_RECORDS);
  const maxBatch = Math.max(1, Math.min(limits.maxBatch, c.batch_size ?? limits.maxBatch, budget));
  const concurrency = Math.max(
    1,
    Math.min(limits.concurrency, c.concurrency ?? limits.concurrency, Math.floor(budget / maxBatch)),
  );
  return { maxBatch, concurrency };
}

/** One unit of the push pipeline: a batch (or none, for a page with nothing to send) and the cursor after it. */
interface Entry {
  batch?: SinkRecord[];
  cursorAfter: number;
  done: boolean;
  /** Delivery-ledger updates settled by this entry (its batch's answers; the page's skipped values on its last entry). */
  settled: LedgerUpdate[];
}

/** A page's batches, and the ledger updates of the values the sink skips. */
interface Built {
  batches: SinkRecord[][];
  skipped: LedgerUpdate[];
}

/**
 * The push pipeline: a producer reads change-log pages and turns them into batches while up to
 * `concurrency` workers send earlier batches, so building records overlaps the remote side's
 * latency. Batches are taken in order; a batch holding a key that an earlier batch still has in
 * flight waits for it, so each value's states arrive in change-log order. The cursor is committed
 * for the longest prefix of finished entries, and no batch is taken while `concurrency` entries
 * after that prefix are unfinished or uncommitted, so a crash repeats at most `concurrency` batches
 * even while one slow batch is retried and the others are acknowledged around it. Entries behind
 * the committed prefix are dropped, so memory holds the batches in flight and the read-ahead,
 * whatever the length of the log. Returns the committed cursor.
 */
async function pipeline(
  o: SinkRunOptions,
  ctx: SinkRunContext,
  from: number,
  pageSize: number,
  concurrency: number,
  sum: SinkRunSummary,
  build: (changes: Change[]) => Promise<Built>,
  commit: (cursor: number, settled: LedgerUpdate[]) => Promise<void>,
): Promise<number> {
  const entries: Entry[] = [];
  let taken = 0;
  let prefix = 0;
  let cursor = from;
  let produced = false;
  let failure: unknown;
  let waiters: (() => void)[] = [];
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const changed = () => new Promise<void>((r) => waiters.push(r));
  const inflight = new Map<string, number>();
  let commits: Promise<void> = Promise.resolve();
  const advance = () => {
    let moved = false;
    const settled: LedgerUpdate[] = [];
    for (let e = entries[prefix]; e?.done; e = entries[prefix]) {
      cursor = e.cursorAfter;
      for (const u of e.settled) settled.push(u);
      e.settled = [];
      prefix++;
      moved = true;
    }
    if (moved) {
      const c = cursor;
      commits = commits.then(() => commit(c, settled));
    }
    if (prefix >= 64) {
      // finished entries are not needed any more: drop them (and their batches)
      entries.splice(0, prefix);
      taken -= prefix;
      prefix = 0;
    }
  };

  const producer = async () => {
    try {
      let after = from;
      for (;;) {
        // at most two pages' worth of batches wait ahead of the workers
        while (failure === undefined && entries.length - taken > Math.max(2 * concurrency, 8) && !o.signal.aborted)
          await changed();
        if (failure !== undefined || o.signal.aborted) return;
        const page = await o.store.changes(after, pageSize);
        if (page.changes.length === 0 || page.next === after) return;
        sum.changes += page.changes.length;
        const { batches, skipped } = await build(page.changes);
        if (batches.length === 0) entries.push({ cursorAfter: page.next, done: true, settled: skipped });
        for (const [i, batch] of batches.entries()) {
          const following = batches[i + 1];
          entries.push({
            batch,
            cursorAfter: following ? first(following).seq - 1 : page.next,
            done: false,
            settled: following ? [] : skipped,
          });
        }
        after = page.next;
        advance();
        wake();
      }
    } catch (e) {
      failure ??= e;
    } finally {
      produced = true;
      wake();
    }
  };

  const worker = async () => {
    for (;;) {
      // wait for an entry, and for room in the window of `concurrency` entries past the committed prefix
      while (
        failure === undefined &&
        ((taken >= entries.length && !produced) || taken - prefix >= concurrency) &&
        !o.signal.aborted
      )
        await changed();
      if (failure !== undefined || o.signal.aborted || taken >= entries.length) return;
      const e = at(entries, taken++);
      wake();
      const batch = e.batch;
      if (batch) {
        while (failure === undefined && batch.some((r) => inflight.has(r.key))) await changed();
        if (failure !== undefined) return;
        for (const r of batch) inflight.set(r.key, (inflight.get(r.key) ?? 0) + 1);
        try {
          // the cursors of the batches acknowledged so far are committed before another is sent, so
          // a crash repeats at most the batches in flight (the store may answer on another thread)
          await commits;
          await sendBatch(o, ctx, batch, sum, e.settled);
        } catch (err) {
          failure ??= err;
          wake();
          return;
        } finally {
          for (const r of batch) {
            const n = entry(inflight, r.key) - 1;
            if (n === 0) inflight.delete(r.key);
            else inflight.set(r.key, n);
          }
        }
      }
      e.done = true;
      e.batch = undefined;
      advance();
      wake();
    }
  };

  await Promise.all([producer(), ...Array.from({ length: concurrency }, worker)]);
  await commits;
  if (failure !== undefined) throw failure;
  if (o.signal.aborted)
    throw new StixgateError('STIXGATE_ERR_JOB_ABORTED', `sink ${o.id}: aborted`, { reason: 'aborted' });
  return cursor;
}

/**
 * A value may be held by several indicators (different patterns, different sources). A removal
 * caused by one of them must not take the value out while another eligible indicator still holds
 * it: such removals become upserts of the surviving indicator's record.
 */
async function keepShared(o: SinkRunOptions, records: SinkRecord[]): Promise<SinkRecord[]> {
  const out: SinkRecord[] = [];
  for (const r of records) {
    if (r.op !== 'remove' || r.reason === 'warninglist') {
      out.push(r);
      continue;
    }
    const page = await o.store.query({ type: 'indicator', value: r.observable.value, limit: 20 });
    let rec: SinkRecord | undefined;
    for (const obj of page.objects) {
      if (obj.id === r.object.id) continue;
      const d = decide(obj, 'upsert', o.config, o.now(), o.access);
      if (d.action !== 'upsert') continue;
      rec = recordsFor(d.object, r.seq, 'upsert', undefined, o.mapping, d.facts).find((x) => x.key === r.key);
      if (rec) {
        rec.contributions = contributionsOf(obj, o.access);
        break;
      }
    }
    out.push(rec ?? r);
  }
  return out;
}

/**
 * A sink that last ran under another publish filter (warninglists reloaded, allowlists edited)
 * withdraws what the filter now withholds, then records the filter. A sink that never pushed
 * (cursor 0, no filter recorded) only records it. A failure leaves the old fingerprint, so the next
 * run repeats the pass.
 */
async function publishPass(o: SinkRunOptions, pass: PassContext, cursor: number, version: string): Promise<void> {
  const key = sinkPublishName(o.id);
  const seen = await o.store.getCursor(key);
  if (seen === version) return;
  if (seen !== undefined || cursor > 0) {
    const n = await withdrawWithheld(pass);
    o.logger.info({ sink: o.id, withdrawn: n }, 'publish filter changed: withheld values withdrawn');
  }
  if (!o.signal.aborted) await o.store.setCursor(key, version);
}

/** Indicators looked at per run by the remote expiry refresh, unless `refresh_max_per_run` says otherwise. */
export const DEFAULT_REFRESH_MAX_PER_RUN = 20_000;

/**
 * The remote expiry refresh: every `refresh_days` (default: half the time to live the sink declares;
 * none declared and none configured: no refresh), a cycle re-sends the values still valid, a bounded
 * slice per run (src/delivery/passes.ts). Its position is kept in the store, so restarts resume it.
 */
async function refreshPass(o: SinkRunOptions, pass: PassContext, sum: SinkRunSummary): Promise<void> {
  const intervalMs =
    o.config.refresh_days !== undefined
      ? o.config.refresh_days * 86_400_000
      : o.sink.remoteTtlMs !== undefined
        ? o.sink.remoteTtlMs / 2
        : undefined;
  if (intervalMs === undefined) return;
  const key = sinkRefreshName(o.id);
  const raw = await o.store.getCursor(key);
  const state = raw === undefined ? undefined : refreshStateOf(raw);
  const r = await refreshSlice(pass, state, {
    intervalMs,
    maxPerRun: o.config.refresh_max_per_run ?? DEFAULT_REFRESH_MAX_PER_RUN,
  });
  await o.store.setCursor(key, JSON.stringify(r.state));
  sum.refreshed = r.refreshed;
  if (r.refreshed) o.metrics?.sinkRefreshed.inc({ sink: o.id }, r.refreshed);
}

/** Dry run: counts the batches that would be sent and keeps a few sample records. */
function plan(sum: SinkRunSummary, batches: SinkRecord[][]): void {
  const planned = sum.planned;
  if (planned === undefined) throw new RangeError('a dry run keeps its plan in sum.planned');
  for (const b of batches) {
    sum.batches++;
    planned[first(b).op]++;
    for (const r of b) if (planned.samples.length < 10) planned.samples.push(r);
  }
}

/**
 * Sends batches with at most `concurrency` in flight (the `--full` re-send, which commits no
 * cursor per batch). The first failure stops new batches, waits for the ones in flight and is rethrown.
 */
async function sendAll(
  o: SinkRunOptions,
  ctx: SinkRunContext,
  batches: SinkRecord[][],
  concurrency: number,
  sum: SinkRunSummary,
  settled: LedgerUpdate[],
): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < batches.length && !o.signal.aborted) {
      try {
        await sendBatch(o, ctx, at(batches, next++), sum, settled);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
  if (failure !== undefined) throw failure;
  if (o.signal.aborted)
    throw new StixgateError('STIXGATE_ERR_JOB_ABORTED', `sink ${o.id}: aborted`, { reason: 'aborted' });
}

/**
 * One batch until every record is acknowledged or rejected; throws when retries run out. The
 * delivery ledger's updates of the records it settles go to `settled` (src/delivery/ledger.ts).
 */
export async function sendBatch(
  o: SinkRunOptions,
  ctx: SinkRunContext,
  batch: SinkRecord[],
  sum: SinkRunSummary,
  settled: LedgerUpdate[] = [],
): Promise<void> {
  const op = first(batch).op; // batches are never empty
  const maxAttempts = o.config.retry.max_attempts;
  const maxWait = o.maxRetryAfterMs ?? 120_000;
  let pending = batch;
  for (let attempt = 1; ; attempt++) {
    let outcomes: SinkOutcome[];
    let waitMs = 0;
    try {
      const end = o.metrics?.sinkBatchDuration.startTimer({ sink: o.id, op });
      const run = () =>
        op === 'upsert'
          ? o.sink.upsert(pending, { ...ctx, now: o.now() })
          : o.sink.remove(pending, { ...ctx, now: o.now() });
      outcomes = await o.limiter.schedule(run);
      end?.();
      if (outcomes.length !== pending.length) {
        throw new StixgateError(
          'STIXGATE_ERR_SINK_PROTOCOL',
          `sink ${o.id}: ${outcomes.length} outcomes for ${pending.length} records`,
          { reason: 'outcomes' },
        );
      }
    } catch (e) {
      if (isBadRequest(e)) return bisect(o, ctx, pending, sum, e, settled);
      classify(o, e);
      if (attempt >= maxAttempts) throw e;
      const reason = isStixgateError(e) ? (e.reason ?? 'error') : 'error';
      o.metrics?.sinkRetried.inc({ sink: o.id, reason });
      sum.retried++;
      waitMs = retryWait(o, attempt, isStixgateError(e) ? e.retryAfterMs : undefined, maxWait, e);
      o.logger.warn(
        { sink: o.id, op, records: pending.length, attempt, waitMs, reason },
        `batch failed, retrying: ${errorMessage(e)}`,
      );
      await abortableSleep(waitMs, o.signal);
      continue;
    }
    const again: SinkRecord[] = [];
    const rejected: { record: SinkRecord; reason: string }[] = [];
    let retryAfter: number | undefined;
    let ok = 0;
    outcomes.forEach((out, i) => {
      const record = at(pending, i); // one outcome per record
      const u = ledgerUpdate(record, out, o.config.filters.min_score);
      if (u) settled.push(u);
      if (out.status === 'ok') {
        ok++;
        if (op === 'remove') o.metrics?.sinkRemoved.inc({ sink: o.id, reason: record.reason ?? 'unknown' });
      } else if (out.status === 'reject') rejected.push({ record, reason: out.reason });
      else {
        again.push(record);
        if (out.retryAfterMs !== undefined) retryAfter = Math.max(retryAfter ?? 0, out.retryAfterMs);
      }
    });
    if (op === 'upsert') {
      sum.upserted += ok;
      o.metrics?.sinkPushed.inc({ sink: o.id }, ok);
    } else {
      sum.removed += ok;
    }
    const [firstRejected] = rejected;
    if (firstRejected) {
      deadLetter(o, rejected);
      sum.rejected += rejected.length;
      o.logger.warn(
        { sink: o.id, rejected: rejected.length, first: firstRejected.reason, file: o.deadLetter.path },
        'records rejected by the remote side (dead-letter file)',
      );
    }
    sum.batches++;
    if (again.length === 0) return;
    if (attempt >= maxAttempts) {
      throw new StixgateError(
        'STIXGATE_ERR_HTTP_STATUS',
        `sink ${o.id}: ${again.length} records still not acknowledged after ${attempt} attempts`,
        { reason: 'unacknowledged', retryable: true },
      );
    }
    o.metrics?.sinkRetried.inc({ sink: o.id, reason: 'item' }, again.length);
    sum.retried += again.length;
    pending = again;
    await abortableSleep(retryWait(o, attempt, retryAfter, maxWait), o.signal);
  }
}

/** Writes permanently rejected records to the dead-letter file; counts them and any rotation. */
function deadLetter(o: SinkRunOptions, rejected: { record: SinkRecord; reason: string }[]): void {
  const rotation = o.deadLetter.write(o.id, rejected, o.now());
  o.metrics?.sinkRejected.inc({ sink: o.id }, rejected.length);
  if (!rotation) return;
  o.metrics?.sinkDeadLetterRotations.inc({ sink: o.id });
  if (rotation.droppedBytes) {
    o.metrics?.sinkDeadLetterDropped.inc({ sink: o.id }, rotation.droppedBytes);
    o.logger.warn(
      { sink: o.id, file: o.deadLetter.path, dropped_bytes: rotation.droppedBytes },
      'dead-letter file rotated; its oldest rotated file was deleted',
    );
  }
}

/** A whole-batch 400/413/422: some record in it is bad. */
function isBadRequest(e: unknown): e is StixgateError {
  return (
    isStixgateError(e) &&
    e.code === 'STIXGATE_ERR_HTTP_STATUS' &&
    e.reason === 'status_4xx' &&
    /status (400|413|422)\b/.test(e.message)
  );
}

/**
 * The remote side refused a whole batch for one bad record: halve the batch until the
 * bad records stand alone; they go to the dead-letter file, the others are delivered. Costs
 * O(bad × log batch) extra requests, never an endless retry.
 */
async function bisect(
  o: SinkRunOptions,
  ctx: SinkRunContext,
  batch: SinkRecord[],
  sum: SinkRunSummary,
  e: StixgateError,
  settled: LedgerUpdate[],
): Promise<void> {
  const [only] = batch;
  if (batch.length === 1 && only) {
    deadLetter(o, [{ record: only, reason: e.message }]);
    const rejected = ledgerUpdate(only, { status: 'reject', reason: e.message }, o.config.filters.min_score);
    if (rejected) settled.push(rejected); // a rejection always has its ledger row
    sum.rejected++;
    sum.batches++;
    o.logger.warn(
      { sink: o.id, key: only.key, file: o.deadLetter.path },
      `record rejected by the remote side (dead-letter file): ${e.message}`,
    );
    return;
  }
  o.metrics?.sinkRetried.inc({ sink: o.id, reason: 'split' });
  sum.retried++;
  const half = Math.ceil(batch.length / 2);
  await sendBatch(o, ctx, batch.slice(0, half), sum, settled);
  await sendBatch(o, ctx, batch.slice(half), sum, settled);
}

function retryWait(
  o: SinkRunOptions,
  attempt: number,
  retryAfterMs: number | undefined,
  maxWait: number,
  cause?: unknown,
): number {
  if (retryAfterMs !== undefined) {
    if (retryAfterMs > maxWait) {
      // too long to hold the job: end the run; the scheduler defers the next one until then
      throw new StixgateError(
        'STIXGATE_ERR_HTTP_STATUS',
        `sink ${o.id}: remote asked to wait ${Math.ceil(retryAfterMs / 1000)} s`,
        { reason: 'retry_after', retryable: true, retryAfterMs, cause },
      );
    }
    return retryAfterMs;
  }
  return backoffDelay(attempt, o.config.retry.base_delay_secs * 1000, o.config.retry.max_delay_secs * 1000);
}

/**
 * Rethrows what must not be retried: auth failures (the sink pauses), aborts, permanent errors.
 * Timeouts and connection failures are retried even for POSTs: every sink operation is idempotent
 * (a set add, or an upsert keyed by the value), so resending a batch whose outcome is unknown
 * converges on a single delivery.
 */
function classify(o: SinkRunOptions, e: unknown): void {
  if (isStixgateError(e) && e.code === 'STIXGATE_ERR_SINK_AUTH') {
    o.metrics?.sinkPaused.set({ sink: o.id }, 1);
    throw e;
  }
  if (o.signal.aborted || !isStixgateError(e)) throw e;
  if (e.code === 'STIXGATE_ERR_HTTP_TIMEOUT') return;
  if (e.code === 'STIXGATE_ERR_HTTP_STATUS' && (e.retryable || e.reason === 'status_429' || e.reason === 'status_5xx'))
    return;
  if (e.retryable) return;
  throw e;
}

export async function call(o: SinkRunOptions, fn: () => Promise<void>, what: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      classify(o, e);
      if (attempt >= o.config.retry.max_attempts) throw e;
      o.metrics?.sinkRetried.inc({ sink: o.id, reason: what });
      await abortableSleep(
        retryWait(o, attempt, isStixgateError(e) ? e.retryAfterMs : undefined, o.maxRetryAfterMs ?? 120_000, e),
        o.signal,
      );
    }
  }
}
