import type { Client } from '@opensearch-project/opensearch';
import { StixgateError } from '../../core/errors.js';
import type { StixObject } from '../../core/stix.js';
import { backoffDelay } from '../../core/backoff.js';
import { sleep, withRetry, type RetryPolicy } from './client.js';
import { parseObject, stateOf, toDoc, type Existing, type ObjectState } from './documents.js';
import { nextScoreHistory } from './score-history.js';
import type { Allocation, Sequence } from './sequence.js';
import { at, entry } from '../../core/indexed.js';

export interface WriteContext {
  client: Client;
  node: string;
  index: string;
  policy: RetryPolicy;
  maxDocs: number;
  maxBytes: number;
  sequence: Sequence;
  /** Renew an allocation when less than this is left of it (a bulk round-trip plus margin). */
  renewMarginMs: number;
  clock: () => number;
}

/** What to write for an id given its current stored state; undefined = nothing to write. */
export type Compute = (
  id: string,
  cur: Existing | undefined,
) => { obj: StixObject; json: string; at?: number } | undefined;

export interface Written {
  seq: number;
  state: ObjectState;
}

export interface WriteReport {
  written: Map<string, Written>;
  /** Ids OpenSearch refused (4xx other than 409/429), with the reason it gave. */
  rejected: Map<string, { reason: string; message: string }>;
  /** Bulk requests sent (for metrics and tests). */
  requests: number;
  /** Items answered 409 (another writer got there first) and merged again. */
  conflicts: number;
  /** Items answered 429/5xx and sent again. */
  retried: number;
}

interface ItemResult {
  status: number;
  seqNo?: number;
  primaryTerm?: number;
  errorType?: string;
  errorReason?: string;
}

const MGET_CHUNK = 1000;
const MAX_CONFLICT_ROUNDS = 50;
/** Only what the per-item handling reads: keeps the response (and its parse) small. */
const BULK_FILTER =
  'errors,items.*.status,items.*._seq_no,items.*._primary_term,items.*.error.type,items.*.error.reason,items.*.error.caused_by.reason';

/** Reads the stored documents of `ids` (realtime GETs, no refresh needed). */
export async function readExisting(ctx: WriteContext, ids: string[]): Promise<Map<string, Existing>> {
  const out = new Map<string, Existing>();
  for (let i = 0; i < ids.length; i += MGET_CHUNK) {
    const chunk = ids.slice(i, i + MGET_CHUNK);
    const r = await withRetry(ctx.node, 'mget', ctx.policy, () =>
      ctx.client.mget({
        index: ctx.index,
        body: { ids: chunk },
        _source_includes: ['json', 'first_seq', 'seq', 'score_history'],
      }),
    );
    const docs = (
      r.body as {
        docs: {
          _id: string;
          found: boolean;
          _seq_no: number;
          _primary_term: number;
          _source?: { json: string; first_seq: number; seq: number; score_history?: string };
          error?: { type?: string };
        }[];
      }
    ).docs;
    for (const d of docs) {
      if (d.error?.type === 'index_not_found_exception') {
        // never write into an index a bulk would create anew (the store's identity check names it)
        throw new StixgateError('STIXGATE_ERR_STORE_UNAVAILABLE', `OpenSearch: index ${ctx.index} is missing`, {
          reason: 'index_missing',
        });
      }
      if (!d.found || !d._source) continue;
      out.set(d._id, {
        obj: parseObject(d._source.json),
        json: d._source.json,
        seqNo: d._seq_no,
        primaryTerm: d._primary_term,
        firstSeq: d._source.first_seq,
        seq: d._source.seq,
        ...(typeof d._source.score_history === 'string' ? { history: d._source.score_history } : {}),
      });
    }
  }
  return out;
}

interface Op {
  id: string;
  line: string;
}

/** Sends ops in requests bounded by count and bytes; returns one result per op, in order. */
export async function sendBulk(ctx: WriteContext, ops: Op[], report: WriteReport): Promise<ItemResult[]> {
  const results: ItemResult[] = [];
  let start = 0;
  while (start < ops.length) {
    let end = start;
    let bytes = 0;
    while (end < ops.length && end - start < ctx.maxDocs) {
      const b = Buffer.byteLength(at(ops, end).line);
      if (end > start && bytes + b > ctx.maxBytes) break;
      bytes += b;
      end++;
    }
    const body = ops
      .slice(start, end)
      .map((o) => o.line)
      .join('');
    report.requests++;
    const r = await withRetry(ctx.node, 'bulk', ctx.policy, () =>
      // cast: the body is NDJSON already serialised (its bytes were counted above); the client sends a
      // string body as is, but its typings accept only the array form
      ctx.client.bulk({ body: body as never, filter_path: BULK_FILTER }),
    );
    const items = (
      r.body as {
        items: Record<
          string,
          {
            status: number;
            _seq_no?: number;
            _primary_term?: number;
            error?: { type?: string; reason?: string; caused_by?: { reason?: string } };
          }
        >[];
      }
    ).items;
    for (const it of items) {
      const x = Object.values(it)[0];
      if (x === undefined) {
        throw new StixgateError('STIXGATE_ERR_STORE_UNAVAILABLE', 'OpenSearch: a bulk response item names no action', {
          reason: 'bad_response',
        });
      }
      results.push({
        status: x.status,
        seqNo: x._seq_no,
        primaryTerm: x._primary_term,
        errorType: x.error?.type,
        errorReason: x.error ? [x.error.reason, x.error.caused_by?.reason].filter(Boolean).join(': ') : undefined,
      });
    }
    start = end;
  }
  return results;
}

function rejectionReason(type: string | undefined): string {
  if (
    type === 'mapper_parsing_exception' ||
    type === 'document_parsing_exception' ||
    type === 'illegal_argument_exception'
  )
    return 'mapping_conflict';
  return 'store_rejected';
}

/** Splits ids into allocation chunks bounded by count and (estimated) bytes. */
function chunks(ids: string[], sizes: Map<string, number>, maxDocs: number, maxBytes: number): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let bytes = 0;
  for (const id of ids) {
    const b = sizes.get(id) ?? 0;
    if (cur.length > 0 && (cur.length >= maxDocs || bytes + b > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(id);
    bytes += b;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * Writes the objects `compute` yields for `ids`, each under a change-log position allocated from
 * the sequence, with optimistic concurrency: a 409 re-reads the object and calls `compute`
 * again (so a concurrent writer's update is merged, never lost); 429/5xx items are retried with
 * back-off; other refusals are reported per id. Throws a retryable STIXGATE_ERR_STORE_UNAVAILABLE
 * when the cluster stays unavailable (whatever was acknowledged stays written and logged).
 */
export async function writeObjects(
  ctx: WriteContext,
  ids: string[],
  existing: Map<string, Existing>,
  compute: Compute,
  depth = 0,
): Promise<WriteReport> {
  const report: WriteReport = { written: new Map(), rejected: new Map(), requests: 0, conflicts: 0, retried: 0 };
  const pending = new Map<string, { obj: StixObject; json: string; at?: number }>();
  /** The score history each op's document carries (kept for the next write of the same id). */
  const histories = new Map<string, string | undefined>();
  const sizes = new Map<string, number>();
  for (const id of ids) {
    const r = compute(id, existing.get(id));
    if (!r) continue;
    pending.set(id, r);
    sizes.set(id, r.json.length * 2 + 512);
  }
  const fenced: string[] = [];
  for (const chunk of chunks([...pending.keys()], sizes, ctx.maxDocs, ctx.maxBytes)) {
    let alloc: Allocation = await ctx.sequence.allocate(chunk.length);
    const pos = new Map<string, number>(chunk.map((id, i) => [id, alloc.from + i * alloc.step]));
    const writtenHere: string[] = [];
    let todo = chunk;
    let transient = 0;
    let failure: unknown;
    try {
      for (let round = 0; todo.length > 0; round++) {
        if (round >= MAX_CONFLICT_ROUNDS) {
          throw new StixgateError(
            'STIXGATE_ERR_STORE_UNAVAILABLE',
            `OpenSearch: objects still conflicting after ${round} rounds`,
            { retryable: true, reason: 'contended' },
          );
        }
        if (alloc.expiresAt - ctx.clock() < ctx.renewMarginMs && !(await ctx.sequence.renew(alloc))) {
          // Our range was reaped: what we wrote under it is re-sequenced at the end; the rest
          // moves to a fresh range.
          fenced.push(...writtenHere.splice(0));
          alloc = await ctx.sequence.allocate(todo.length);
          for (const [i, id] of todo.entries()) pos.set(id, alloc.from + i * alloc.step);
        }
        const ops: Op[] = todo.map((id) => {
          const p = entry(pending, id);
          const cur = existing.get(id);
          const seq = entry(pos, id);
          const doc = toDoc(p.obj, p.json, seq, cur?.firstSeq ?? seq);
          const history = nextScoreHistory(cur, p.obj, p.at ?? ctx.clock());
          if (history !== undefined) doc.score_history = history;
          histories.set(id, history);
          const meta = cur
            ? { index: { _index: ctx.index, _id: id, if_seq_no: cur.seqNo, if_primary_term: cur.primaryTerm } }
            : { create: { _index: ctx.index, _id: id } };
          return { id, line: `${JSON.stringify(meta)}\n${JSON.stringify(doc)}\n` };
        });
        const results = await sendBulk(ctx, ops, report);
        const conflicts: string[] = [];
        const retry: string[] = [];
        results.forEach((res, i) => {
          const id = at(ops, i).id; // one result per op
          if (res.status >= 200 && res.status < 300) {
            const p = entry(pending, id);
            const seq = entry(pos, id);
            const { seqNo, primaryTerm } = res;
            if (seqNo === undefined || primaryTerm === undefined) {
              throw new StixgateError(
                'STIXGATE_ERR_STORE_UNAVAILABLE',
                `OpenSearch: the bulk result for ${id} has no _seq_no or _primary_term`,
                { reason: 'bad_response' },
              );
            }
            existing.set(id, {
              obj: p.obj,
              json: p.json,
              seqNo,
              primaryTerm,
              firstSeq: existing.get(id)?.firstSeq ?? seq,
              seq,
              ...(histories.get(id) !== undefined ? { history: histories.get(id) } : {}),
            });
            report.written.set(id, { seq, state: stateOf(p.obj) });
            writtenHere.push(id);
          } else if (res.status === 409) conflicts.push(id);
          else if (res.status === 429 || res.status >= 500) retry.push(id);
          else {
            report.rejected.set(id, {
              reason: rejectionReason(res.errorType),
              message: `OpenSearch refused ${id}: ${res.errorType ?? `HTTP ${res.status}`}${res.errorReason ? ` (${res.errorReason})` : ''}`,
            });
          }
        });
        const next: string[] = [];
        report.conflicts += conflicts.length;
        report.retried += retry.length;
        if (conflicts.length > 0) {
          const fresh = await readExisting(ctx, conflicts);
          for (const id of conflicts) {
            const cur = fresh.get(id);
            if (cur) existing.set(id, cur);
            else existing.delete(id);
            const r = compute(id, cur);
            if (!r) continue; // the other writer already wrote what we would (its position is unused)
            pending.set(id, r);
            next.push(id);
          }
        }
        if (retry.length > 0) {
          transient++;
          if (transient >= ctx.policy.maxAttempts) {
            throw new StixgateError(
              'STIXGATE_ERR_STORE_UNAVAILABLE',
              `OpenSearch kept refusing ${retry.length} item(s) with 429/5xx`,
              { retryable: true, reason: 'throttled' },
            );
          }
          await sleep(backoffDelay(transient, ctx.policy.baseDelayMs, ctx.policy.maxDelayMs));
          next.push(...retry);
        }
        todo = next;
      }
    } catch (e) {
      failure = e;
    }
    // Every request of this chunk has completed (acknowledged or failed): end the allocation so
    // readers are not held back. A reaped range means our writes may sit below a reader's
    // position: write them again under a fresh range.
    let committed = false;
    try {
      committed = await ctx.sequence.commit(alloc);
    } catch (e) {
      failure ??= e;
    }
    if (!committed && failure === undefined) fenced.push(...writtenHere);
    if (failure !== undefined) throw failure;
  }
  if (fenced.length > 0 && depth < 3) {
    const fresh = await readExisting(ctx, fenced);
    const again = await writeObjects(
      ctx,
      fenced,
      fresh,
      (_id, cur) => (cur ? { obj: cur.obj, json: cur.json } : undefined), // the same object: its history is kept
      depth + 1,
    );
    for (const [id, w] of again.written) report.written.set(id, w);
    report.requests += again.requests;
    report.conflicts += again.conflicts;
    report.retried += again.retried;
  }
  return report;
}
