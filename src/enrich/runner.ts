import { StixgateError, errorMessage } from '../core/errors.js';
import { DEFAULT_ENRICHER_CEILING, DEFAULT_POLICY, viewTlp, type AccessPolicy } from '../access/policy.js';
import type { Observable, ObservableType, StixObject, TlpLevel } from '../core/stix.js';
import type { IngestItem, Store } from '../store/contract.js';
import type { Logger } from '../telemetry/logger.js';
import type { Enricher, EnrichmentResult } from './types.js';
import type { HttpClient } from '../http/types.js';
import type { SinkRunContext } from '../delivery/types.js';
import { QuotaGate, quotaCursorName, type Quota, type QuotaTimers } from './quota.js';
import {
  EnrichCache,
  loadRecords,
  lookupNote,
  lookupNoteId,
  signalCopy,
  sourceName,
  strictestTlp,
  valueKey,
  type LookupRecord,
} from './records.js';
import { selectChange, type Candidate, type SkipReason } from './select.js';
import { at, entry } from '../core/indexed.js';

/**
 * One run of one enricher over the change log (a scheduled job of its own: ingest never waits
 * for it). Reads changes after cursor `enrich:<id>`, looks up the values of active indicators
 * that have no lookup younger than the TTL, stores the results as STIX under source
 * `enrich:<id>` together with the cursor, and re-delivers each indicator with the service's
 * maliciousness as that source's confidence (the score reads it). docs/enrichment.md.
 */

/** Optional counters (the caller binds the enricher label). */
export interface EnrichMetricsHooks {
  request?(): void;
  cacheHit?(): void;
  quotaWait?(): void;
  error?(reason: string): void;
}

export interface EnrichRunOptions {
  id: string;
  enricher: Enricher;
  /** Display name of the service in notes (default: the id). */
  service?: string;
  store: Store;
  http: HttpClient;
  logger: Logger;
  metrics?: EnrichMetricsHooks;
  now: () => number;
  /** The quota gate's timers, on the same clock as `now` (default: the process's timers). */
  timers?: QuotaTimers;
  signal: AbortSignal;
  quota: Quota;
  /** A value looked up less than this long ago is not looked up again. */
  cacheTtlMs: number;
  /** Lookups one run makes at most. */
  maxPerRun: number;
  /** The in-memory side of the cache; keep one per enricher across runs (default: a fresh one). */
  cache?: EnrichCache;
  /** Changes read per page (default 500). */
  pageSize?: number;
  /** Lookups in flight at once (default 1). */
  concurrency?: number;
  /** The run stops taking new lookups after this long (default 5 min); waiting ones are dropped. */
  maxRunMs?: number;
  /** TLP ceiling: values only reach the service when a contribution at or below it exists (default green). */
  maxTlp?: TlpLevel;
  /** The access policy (default_tlp) contributions are read under. */
  access?: AccessPolicy;
  /** Quota window (tests shorten it); default 60 s. */
  windowMs?: number;
  /** Longest request (slot kept this long if the process dies mid-request); default 60 s. */
  inflightMs?: number;
}

export type StopReason = 'quota' | 'max_per_run' | 'deadline' | 'error' | 'aborted';

export interface EnrichRunSummary {
  changes: number;
  skipped: Record<SkipReason | 'by_enrichment', number>;
  lookups: number;
  found: number;
  notFound: number;
  cacheHits: number;
  /** Values whose lookup failed permanently (skipped; the next change to them tries again). */
  valueErrors: number;
  signals: number;
  stored: { created: number; updated: number; unchanged: number; rejected: number };
  cursor: number;
  stopped?: StopReason;
  /** When the run stopped for a quota or 429: wait this long before the next run. */
  retryAfterMs?: number;
  /** The error that stopped the run, for the scheduler's log. */
  error?: StixgateError;
}

export const enrichCursorName = (id: string): string => `enrich:${id}`;

interface Value {
  observable: Observable;
  key: string;
  /** Indexes of the candidates holding it. */
  holders: number[];
  /** Needs a lookup (no record, or a stale one for a change not made by enrichment). */
  lookup: boolean;
  record?: LookupRecord;
  state: 'pending' | 'done' | 'failed';
  result?: EnrichmentResult;
}

export async function runEnricher(o: EnrichRunOptions): Promise<EnrichRunSummary> {
  const sum: EnrichRunSummary = {
    changes: 0,
    skipped: { not_indicator: 0, inactive: 0, no_values: 0, tlp: 0, by_enrichment: 0 },
    lookups: 0,
    found: 0,
    notFound: 0,
    cacheHits: 0,
    valueErrors: 0,
    signals: 0,
    stored: { created: 0, updated: 0, unchanged: 0, rejected: 0 },
    cursor: 0,
  };
  const source = sourceName(o.id);
  const cursorKey = enrichCursorName(o.id);
  const types = new Set<ObservableType>(o.enricher.types);
  const cache = o.cache ?? new EnrichCache();
  const pageSize = o.pageSize ?? 500;
  const stored = await o.store.getCursor(cursorKey);
  let cursor = stored !== undefined && /^\d+$/.test(stored) ? Number(stored) : 0;
  sum.cursor = cursor;

  const gate = await QuotaGate.open({
    id: o.id,
    store: o.store,
    quota: o.quota,
    now: o.now,
    timers: o.timers,
    windowMs: o.windowMs,
    inflightMs: o.inflightMs,
    concurrency: o.concurrency,
    hooks: { quotaWait: () => o.metrics?.quotaWait?.(), request: () => o.metrics?.request?.() },
  });
  const blocked = gate.blockedUntil();
  if (blocked !== undefined) {
    await gate.close();
    sum.stopped = 'quota';
    sum.retryAfterMs = blocked - o.now();
    return sum;
  }

  const stop = (reason: StopReason, e?: StixgateError): void => {
    if (sum.stopped) return;
    sum.stopped = reason;
    if (e) {
      sum.error = e;
      if (e.retryAfterMs !== undefined) sum.retryAfterMs = e.retryAfterMs;
    }
    void gate.close();
  };
  const deadline = setTimeout(() => stop('deadline'), o.maxRunMs ?? 300_000);
  deadline.unref();
  const onAbort = (): void => stop('aborted');
  if (o.signal.aborted) onAbort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  const ctx: SinkRunContext = {
    id: o.id,
    logger: o.logger,
    http: gate.http(o.http, o.signal),
    signal: o.signal,
    now: o.now(),
  };

  try {
    while (!sum.stopped) {
      const page = await o.store.changes(cursor, pageSize);
      if (page.changes.length === 0) break;
      sum.changes += page.changes.length;
      const now = o.now();
      ctx.now = now;
      const candidates: Candidate[] = [];
      for (const change of page.changes) {
        const c = selectChange(change, types, now, o.maxTlp ?? DEFAULT_ENRICHER_CEILING, o.access ?? DEFAULT_POLICY);
        if (typeof c === 'string') sum.skipped[c]++;
        else candidates.push(c);
      }
      const values = await planValues(o, cache, candidates, now, sum);
      await lookUp(
        o,
        ctx,
        [...values.values()].filter((v) => v.lookup),
        sum,
        stop,
        cache,
      );
      // the cursor moves past every change whose values all have an outcome
      let next = page.next;
      for (const c of candidates) {
        if (c.values.some((v) => entry(values, valueKey(v)).state === 'pending')) {
          next = c.change.seq - 1;
          break;
        }
      }
      const items = resultItems(o, sum, source, candidates, values, next);
      if (items.length > 0 || next !== cursor) {
        const r = await o.store.upsert(items, {
          now,
          cursors: { [cursorKey]: String(next), [quotaCursorName(o.id)]: gate.serialize() },
        });
        sum.stored.created += r.created;
        sum.stored.updated += r.updated;
        sum.stored.unchanged += r.unchanged;
        sum.stored.rejected += r.rejected.length;
        for (const rej of r.rejected.slice(0, 5))
          o.logger.warn({ enricher: o.id, reason: rej.reason, location: rej.location }, rej.message);
      }
      cursor = next;
      sum.cursor = cursor;
      if (next < page.next) break; // stopped part-way through the page
    }
  } finally {
    clearTimeout(deadline);
    o.signal.removeEventListener('abort', onAbort);
    await gate.close();
  }
  return sum;
}

/** The distinct values of a page with their records; decides which need a lookup. */
async function planValues(
  o: EnrichRunOptions,
  cache: EnrichCache,
  candidates: Candidate[],
  now: number,
  sum: EnrichRunSummary,
): Promise<Map<string, Value>> {
  const values = new Map<string, Value>();
  candidates.forEach((c, i) => {
    if (c.byEnrichment) sum.skipped.by_enrichment++;
    for (const ob of c.values) {
      const key = valueKey(ob);
      let v = values.get(key);
      if (!v) {
        v = { observable: ob, key, holders: [], lookup: false, state: 'done' };
        values.set(key, v);
      }
      v.holders.push(i);
    }
  });
  const records = await loadRecords(
    o.store,
    cache,
    o.id,
    [...values.values()].map((v) => v.observable),
  );
  for (const v of values.values()) {
    v.record = records.get(v.key);
    const fresh = v.record !== undefined && now - v.record.at < o.cacheTtlMs;
    // a change made by an enricher only asks for values never looked up (no loops)
    v.lookup = v.holders.some((i) => (at(candidates, i).byEnrichment ? v.record === undefined : !fresh));
    if (v.lookup) v.state = 'pending';
    else {
      sum.cacheHits++;
      o.metrics?.cacheHit?.();
    }
  }
  return values;
}

/** Runs the lookups, `concurrency` at a time, until done or the run stops. */
async function lookUp(
  o: EnrichRunOptions,
  ctx: SinkRunContext,
  todo: Value[],
  sum: EnrichRunSummary,
  stop: (r: StopReason, e?: StixgateError) => void,
  cache: EnrichCache,
): Promise<void> {
  let i = 0;
  const worker = async (): Promise<void> => {
    while (i < todo.length && !sum.stopped) {
      if (sum.lookups >= o.maxPerRun) {
        stop('max_per_run');
        return;
      }
      const v = at(todo, i++);
      sum.lookups++;
      try {
        const result = await o.enricher.enrich(v.observable, ctx);
        v.result = result;
        v.state = 'done';
        v.record = {
          at: ctx.now,
          found: result !== undefined,
          ...(result?.maliciousness !== undefined ? { maliciousness: clamp(result.maliciousness) } : {}),
        };
        cache.set(v.key, v.record);
        if (result) sum.found++;
        else sum.notFound++;
      } catch (e) {
        sum.lookups--;
        const err =
          e instanceof StixgateError
            ? e
            : new StixgateError('STIXGATE_ERR_SINK_PROTOCOL', `enricher ${o.id}: ${errorMessage(e)}`, {
                reason: 'internal',
                cause: e,
              });
        if (sum.stopped) return; // the run was stopping: this value stays pending
        o.metrics?.error?.(err.reason);
        if (err.code === 'STIXGATE_ERR_ENRICH_QUOTA' || err.reason === 'status_429') stop('quota', err);
        else if (err.code === 'STIXGATE_ERR_JOB_ABORTED') stop('aborted', err);
        // service trouble, refused credentials or a defect in the enricher: stop and resume later
        else if (err.retryable || err.reason === 'auth' || err.reason === 'internal') stop('error', err);
        else {
          // this value cannot be looked up (the service refused it, or its answer was unreadable)
          sum.lookups++;
          sum.valueErrors++;
          v.state = 'failed';
          o.logger.warn(
            { enricher: o.id, type: v.observable.type, reason: err.reason },
            `enrichment lookup failed: ${err.message}`,
          );
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 1) }, worker));
}

function clamp(n: number): number {
  return Math.max(0, Math.min(100, Math.round(n)));
}

/** Lookup notes, the enricher's objects and indicator signals for the changes before `next`. */
function resultItems(
  o: EnrichRunOptions,
  sum: EnrichRunSummary,
  source: string,
  candidates: Candidate[],
  values: Map<string, Value>,
  next: number,
): IngestItem[] {
  const items: IngestItem[] = [];
  const service = o.service ?? o.id;
  const ceiling = o.maxTlp ?? DEFAULT_ENRICHER_CEILING;
  const access = o.access ?? DEFAULT_POLICY;
  for (const v of values.values()) {
    if (!v.lookup || v.state !== 'done' || !v.record) continue;
    // the result is as restricted as the strictest contribution the enricher was shown
    const tlps: TlpLevel[] = v.holders.map((i) => viewTlp(at(candidates, i).change.object, ceiling, access) ?? ceiling);
    const tlp = strictestTlp(tlps);
    const noteId = lookupNoteId(o.id, v.observable);
    const own = v.result?.objects.find((x) => x.id === noteId);
    items.push({
      object: lookupNote({
        enricherId: o.id,
        service,
        observable: v.observable,
        now: v.record.at,
        found: v.record.found,
        maliciousness: v.record.maliciousness,
        indicatorIds: [...new Set(v.holders.map((i) => at(candidates, i).change.id))],
        tlp,
        fromEnricher: own,
      }),
      source,
      seenAt: new Date(v.record.at).toISOString(),
      ...(tlp ? { tlp } : {}),
    });
    for (const x of v.result?.objects ?? []) if (x.id !== noteId) items.push({ object: x, source, tlp });
  }
  // one signal per indicator: the highest maliciousness of its values, when it changed
  for (const c of candidates) {
    if (c.change.seq > next) break;
    let m: number | undefined;
    for (const ob of c.values) {
      const r = values.get(valueKey(ob))?.record;
      if (r?.maliciousness !== undefined && (m === undefined || r.maliciousness > m)) m = r.maliciousness;
    }
    if (m === undefined) continue;
    const current = c.change.object.x_stixgate?.sources?.[source]?.confidence;
    if (current === m) continue;
    sum.signals++;
    const tlp = viewTlp(c.change.object, ceiling, access) ?? ceiling;
    items.push({ object: signalCopy(c.change.object as StixObject), source, confidence: m, tlp });
  }
  return items;
}
