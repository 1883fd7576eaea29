import { randomUUID } from 'node:crypto';
import type { Client } from '@opensearch-project/opensearch';
import { StixgateError } from '../../core/errors.js';
import { errorType, sleep, statusOf } from './client.js';

/**
 * The change-log sequence (docs/adr/0003-opensearch-store.md): one counter document holding the
 * last allocated number and the ranges writers have allocated but not yet committed. Every
 * change is an optimistic-concurrency (if_seq_no/if_primary_term) update of this document.
 *
 * Readers only read up to the horizon: one below the lowest range still in flight (or the head
 * when none is), so a change can never become visible below a position a reader has passed.
 * A writer that dies leaves its range in flight until the range expires; the next writer or
 * reader then reaps it, and a writer that was only slow finds its range gone at commit and
 * re-writes its objects under a fresh range.
 */
export interface Allocation {
  id: string;
  from: number;
  to: number;
  expiresAt: number;
}

interface InflightEntry {
  from: number;
  to: number;
  expires_at: number;
}

interface CounterDoc {
  kind: 'sequence';
  name: string;
  next: number;
  inflight: Record<string, InflightEntry>;
  updated_at: number;
}

interface Loaded {
  doc: CounterDoc;
  seqNo?: number;
  primaryTerm?: number;
}

export interface SequenceOptions {
  index: string;
  ttlMs: number;
  /** A reaped range of another writer must be this far past its expiry (clock-skew allowance). */
  skewMs?: number;
  clock?: () => number;
}

const DOC_ID = 'sequence:changes';
const MAX_CAS_ROUNDS = 200;

export class Sequence {
  private readonly clock: () => number;
  private readonly skewMs: number;

  constructor(
    private readonly client: Client,
    private readonly opts: SequenceOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
    this.skewMs = opts.skewMs ?? 5000;
  }

  private async load(): Promise<Loaded> {
    try {
      const r = await this.client.get({ index: this.opts.index, id: DOC_ID });
      const b = r.body as { _source: CounterDoc; _seq_no: number; _primary_term: number };
      const doc = b._source;
      return { doc: { ...doc, inflight: { ...(doc.inflight ?? {}) } }, seqNo: b._seq_no, primaryTerm: b._primary_term };
    } catch (e) {
      if (statusOf(e) === 404)
        return { doc: { kind: 'sequence', name: 'changes', next: 0, inflight: {}, updated_at: 0 } };
      throw e;
    }
  }

  /** Writes the counter if nobody changed it since `l` was loaded; false on a conflict. */
  private async save(l: Loaded, doc: CounterDoc): Promise<boolean> {
    try {
      doc.updated_at = this.clock();
      if (l.seqNo === undefined) {
        await this.client.create({ index: this.opts.index, id: DOC_ID, body: doc });
      } else {
        await this.client.index({
          index: this.opts.index,
          id: DOC_ID,
          body: doc,
          if_seq_no: l.seqNo,
          if_primary_term: l.primaryTerm,
        });
      }
      return true;
    } catch (e) {
      if (statusOf(e) === 409 || errorType(e) === 'version_conflict_engine_exception') return false;
      throw e;
    }
  }

  /** Removes ranges of other writers that expired (skew allowance included). */
  private reap(doc: CounterDoc): boolean {
    const now = this.clock();
    let changed = false;
    for (const [key, entry] of Object.entries(doc.inflight)) {
      if (entry.expires_at + this.skewMs < now) {
        delete doc.inflight[key];
        changed = true;
      }
    }
    return changed;
  }

  private async cas<T>(fn: (doc: CounterDoc) => { write: boolean; value: T }): Promise<T> {
    for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
      const l = await this.load();
      const doc: CounterDoc = { ...l.doc, inflight: { ...l.doc.inflight } };
      const reaped = this.reap(doc);
      const { write, value } = fn(doc);
      if (!write && !reaped) return value;
      if (await this.save(l, doc)) return value;
      await sleep(Math.floor(Math.random() * Math.min(50, 2 + round * 5)));
    }
    throw new StixgateError('STIXGATE_ERR_STORE_UNAVAILABLE', 'change-log sequence is too contended', {
      retryable: true,
      reason: 'contended',
    });
  }

  /** Reserves `n` consecutive positions. */
  async allocate(n: number): Promise<Allocation> {
    const id = randomUUID();
    return this.cas((doc) => {
      const a: Allocation = { id, from: doc.next + 1, to: doc.next + n, expiresAt: this.clock() + this.opts.ttlMs };
      doc.next += n;
      Object.defineProperty(doc.inflight, id, {
        value: { from: a.from, to: a.to, expires_at: a.expiresAt },
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return { write: true, value: a };
    });
  }

  /** Extends an allocation; false when it was reaped (the writer must re-sequence). */
  async renew(a: Allocation): Promise<boolean> {
    const expiresAt = this.clock() + this.opts.ttlMs;
    const ok = await this.cas((doc) => {
      const e = Object.hasOwn(doc.inflight, a.id) ? doc.inflight[a.id] : undefined;
      if (!e) return { write: false, value: false };
      e.expires_at = expiresAt;
      return { write: true, value: true };
    });
    if (ok) a.expiresAt = expiresAt;
    return ok;
  }

  /** Ends an allocation (its writes are all acknowledged); false when it had been reaped. */
  async commit(a: Allocation): Promise<boolean> {
    return this.cas((doc) => {
      if (!Object.hasOwn(doc.inflight, a.id)) return { write: false, value: false };
      delete doc.inflight[a.id];
      return { write: true, value: true };
    });
  }

  /** `head`: the last allocated position; `horizon`: the highest position safe to read up to. */
  async position(): Promise<{ head: number; horizon: number }> {
    const l = await this.load();
    const doc = l.doc;
    const now = this.clock();
    const expired = Object.values(doc.inflight).some((e) => e.expires_at + this.skewMs < now);
    // An expired range is reaped (a write) before the horizon may move past it.
    const d = expired ? await this.cas((x) => ({ write: false, value: x })) : doc;
    let horizon = d.next;
    for (const e of Object.values(d.inflight)) horizon = Math.min(horizon, e.from - 1);
    return { head: d.next, horizon };
  }
}
