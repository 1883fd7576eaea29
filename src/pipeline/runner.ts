import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Store, IngestItem, UpsertResult } from '../store/contract.js';
import type { CommonSourceConfig, Page, Source } from './types.js';
import type { HttpClient } from '../http/types.js';
import type { Rejection } from '../core/errors.js';
import { tlpRank, type StixObject, type TlpLevel } from '../core/stix.js';
import { MarkingResolver, type ContributionMarking } from '../access/ingest.js';
import { DEFAULT_TLP } from '../access/policy.js';
import { indicatorObservables } from '../core/object-observables.js';
import { gateObject, DEFAULT_VALUE_POLICY, type ValuePolicy } from '../core/value-gate.js';
import type { Allowlist } from '../filter/ingest-allowlist.js';
import { recordSeenAt } from '../score/record-time.js';
import { RunDocuments } from './poison.js';

export interface RunOptions {
  id: string;
  source: Source;
  config: CommonSourceConfig;
  store: Store;
  http: HttpClient;
  logger: Logger;
  metrics?: Metrics;
  allowlist?: Allowlist;
  allowRed: boolean;
  /** TLP of a contribution with no marking from a source with no `tlp` (config `default_tlp`). */
  defaultTlp?: TlpLevel;
  signal: AbortSignal;
  now: () => number;
  full?: boolean;
  /** Called after each store transaction with the records its pages held and what the store did (progress bars). */
  onCommit?: (received: number, result: UpsertResult) => void;
  /** Objects per store transaction (pages are coalesced up to this). Default 10,000. */
  batchSize?: number;
  /** Stops after N pages (crash tests); not for production use. */
  maxPages?: number;
  /** Called for each object the run does not store (value gate, filter, store refusal), with why (per-object answers such as TAXII status). */
  onDropped?: (r: Rejection) => void;
}

export interface RunSummary {
  pages: number;
  received: number;
  mapped: number;
  filtered: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  created: number;
  updated: number;
  unchanged: number;
  stale: number;
  cursor?: string;
  /** The first rejections, with locations, for the log and the CLI. */
  samples: Rejection[];
}

export const cursorName = (sourceId: string): string => `source:${sourceId}`;

const MAX_SAMPLES = 20;

/**
 * One run of one source: pages from the source → filters → store, each page in one store
 * transaction together with its cursor. A page's cursor is committed only after the store accepted
 * the page; an aborted run commits nothing further. Documents that fail or crash the run again
 * and again are quarantined (./poison.ts).
 */
export async function runSource(o: RunOptions): Promise<RunSummary> {
  const cursor = await o.store.getCursor(cursorName(o.id));
  const now = o.now();
  const documents = new RunDocuments(o.store, o.id, (key, attempts) =>
    o.logger.error({ source: o.id, attempts }, `poison document skipped: ${key}`),
  );
  try {
    const sum = await ingest(o, cursor, now, documents);
    await documents.settle(undefined, o.signal.aborted);
    return sum;
  } catch (e) {
    await documents.settle(e, o.signal.aborted).catch(() => undefined);
    throw e;
  }
}

async function ingest(
  o: RunOptions,
  cursor: string | undefined,
  now: number,
  documents: RunDocuments,
): Promise<RunSummary> {
  const sum: RunSummary = {
    pages: 0,
    received: 0,
    mapped: 0,
    filtered: 0,
    rejected: 0,
    rejectedByReason: {},
    created: 0,
    updated: 0,
    unchanged: 0,
    stale: 0,
    samples: [],
  };
  const name = cursorName(o.id);
  const pages = o.source.pages({
    id: o.id,
    logger: o.logger,
    http: o.http,
    signal: o.signal,
    now,
    cursor,
    full: o.full,
    documents,
  });
  // Pages are coalesced into store transactions of about `batchSize` objects: a commit costs far
  // more than a row, and committing several pages at once with the last page's cursor keeps the
  // guarantee (a cursor is never committed without every object before it).
  const batchSize = o.batchSize ?? 10_000;
  const policy = valuePolicy(o.config);
  let items: IngestItem[] = [];
  let pending: Page[] = [];
  let cursorToCommit: string | undefined;
  const markings = new MarkingResolver((ids) => o.store.getMany(ids), o.defaultTlp ?? DEFAULT_TLP);
  // One batch may be in the store while the next is read and mapped (a threaded store writes on
  // its own core). Batches reach the store in order, and a batch is only sent once the one before
  // it committed, so a cursor still never commits ahead of an object before it.
  let inflight: Promise<void> | undefined;
  let failed: { error: unknown } | undefined;
  const settle = async () => {
    if (inflight) await inflight;
    inflight = undefined;
    if (failed) throw failed.error;
  };
  const commit = (batch: IngestItem[], committed: Page[], cursor: string | undefined) => async () => {
    const result = await o.store.upsert(batch, { now, cursors: cursor !== undefined ? { [name]: cursor } : undefined });
    for (const r of result.rejected) {
      countRejection(sum, r, o);
      o.onDropped?.(r);
    }
    sum.created += result.created;
    sum.updated += result.updated;
    sum.unchanged += result.unchanged;
    sum.stale += result.stale;
    if (cursor !== undefined) {
      sum.cursor = cursor;
      o.metrics?.cursorCommitted.set({ job_name: o.id }, o.now() / 1000);
    }
    if (o.metrics) {
      for (const k of ['created', 'updated', 'unchanged', 'stale'] as const)
        if (result[k]) o.metrics.objectsStored.inc({ source: o.id, outcome: k }, result[k]);
    }
    // once per transaction: the result covers every page it coalesced
    o.onCommit?.(
      committed.reduce((n, p) => n + p.received, 0),
      result,
    );
  };
  const flush = async () => {
    await settle();
    if (pending.length === 0) return;
    inflight = commit(items, pending, cursorToCommit)().catch((error: unknown) => {
      failed = { error };
    });
    items = [];
    pending = [];
    cursorToCommit = undefined;
  };
  try {
    for await (const page of pages) {
      if (o.signal.aborted) break;
      if (failed) await settle();
      sum.pages++;
      sum.received += page.received;
      sum.mapped += page.items.length;
      await markings.learn(page.items.map((it) => it.object));
      let unreadable = 0;
      for (const it of page.items) {
        // the value gate: what fails is counted by reason and never stored
        const gate = gateObject(it.object, policy, { source: o.id });
        for (const r of gate.ok ? gate.rejections : [gate.rejection]) countRejection(sum, r, o);
        if (!gate.ok) {
          o.onDropped?.(gate.rejection);
          continue;
        }
        const object = gate.object;
        const marking = markings.markingOf(object, o.config.tlp);
        const why = filterReason(object, marking, o);
        if (why) {
          sum.filtered++;
          o.metrics?.recordsFiltered.inc({ source: o.id, filter: why });
          o.onDropped?.({
            reason: why,
            message:
              why === 'tlp_red' ? 'TLP:RED objects are not stored (allow_red is off)' : 'the value is on the allowlist',
            location: { source: o.id, objectId: object.id },
          });
          continue;
        }
        if (marking.reading.unreadable.length > 0) {
          unreadable++;
          if (unreadable === 1)
            o.logger.warn(
              { source: o.id, id: object.id, marking: marking.reading.unreadable[0] },
              'marking cannot be read: the contribution is treated as TLP:RED',
            );
        }
        items.push({
          object,
          source: o.id,
          seenAt: recordSeenAt(it.seenAt, now),
          confidence: it.confidence ?? o.config.confidence,
          tlp: marking.tlp,
        });
      }
      if (unreadable > 0) o.metrics?.markingsUnreadable.inc({ source: o.id }, unreadable);
      for (const r of page.rejections) countRejection(sum, r, o);
      for (const w of page.warnings ?? []) o.logger.warn({ source: o.id }, w);
      if (page.explain?.length) o.logger.info({ source: o.id, explain: page.explain }, 'how the document was read');
      if (o.metrics) {
        o.metrics.recordsReceived.inc({ source: o.id }, page.received);
        o.metrics.recordsMapped.inc({ source: o.id }, page.items.length);
      }
      pending.push(page);
      if (page.cursor !== undefined) cursorToCommit = page.cursor;
      if (items.length >= batchSize || (o.maxPages !== undefined && sum.pages >= o.maxPages)) await flush();
      if (o.maxPages !== undefined && sum.pages >= o.maxPages) break;
    }
    // an aborted run drops what it has not sent to the store; a finished one commits the rest
    if (!o.signal.aborted) await flush();
  } finally {
    // never return (or throw) with a batch still in the store
    await inflight;
  }
  await settle();
  return sum;
}

/** The source's value policy (config `min_prefix`); defaults for configs built without the schema. */
function valuePolicy(c: CommonSourceConfig): ValuePolicy {
  const p = c.min_prefix;
  return p ? { minPrefixIpv4: p.ipv4, minPrefixIpv6: p.ipv6 } : DEFAULT_VALUE_POLICY;
}

function countRejection(sum: RunSummary, r: Rejection, o: RunOptions): void {
  sum.rejected++;
  sum.rejectedByReason[r.reason] = (sum.rejectedByReason[r.reason] ?? 0) + 1;
  o.metrics?.recordsRejected.inc({ source: o.id, reason: r.reason });
  if (sum.samples.length < MAX_SAMPLES) sum.samples.push({ ...r, location: { source: o.id, ...r.location } });
}

/** Why an object is dropped before the store, or undefined to keep it. */
function filterReason(obj: StixObject, marking: ContributionMarking, o: RunOptions): string | undefined {
  if (!o.allowRed) {
    // Only an explicit TLP:RED marking (or a red source default) drops an object here. Unreadable
    // markings are kept in the store as red contributions (never served below red).
    const tlp: TlpLevel | undefined = marking.reading.tlp ?? o.config.tlp;
    if (tlp && tlpRank(tlp) >= tlpRank('red')) return 'tlp_red';
  }
  if (o.allowlist && o.allowlist.size > 0 && obj.type === 'indicator' && typeof obj.pattern === 'string') {
    // invalid patterns and other pattern languages name no observable: the store's and validator's business
    const observables = indicatorObservables(obj);
    const allowlist = o.allowlist;
    if (observables.length > 0 && observables.every((ob) => allowlist.covers(ob))) return 'allowlist';
  }
  return undefined;
}
