import { randomUUID } from 'node:crypto';
import type { Client } from '@opensearch-project/opensearch';
import { StixgateError } from '../../core/errors.js';
import { errorType, sleep, statusOf } from './client.js';

/**
 * The change-log positions (docs/adr/0023-per-writer-change-log.md). A writing store instance
 * claims one of SLOTS writer slots (a document in the meta index) and allocates positions
 * locally: microseconds since the store's epoch, each ≡ slot (mod SLOTS), strictly increasing.
 * It publishes a fence (no position at or below it will be written, apart from chunks already
 * in flight) after each chunk and on a heartbeat; readers read up to the lowest fence of the
 * live slots. A slot whose writer stopped publishing expires after `ttlMs` + the skew
 * allowance; a reader then marks it dead and moves past it.
 */
export interface Allocation {
  id: string;
  from: number;
  to: number;
  /** Distance between consecutive positions of one allocation. */
  step: number;
  expiresAt: number;
  /** The slot claim the positions belong to (a new claim invalidates older allocations). */
  claim: number;
}

/** Writer slots per store: the most instances that can write at once. */
export const SLOTS = 32;
/** A new claim starts this far above the clock (a reader's mget may straddle the claim). */
const JOIN_MARGIN_US = 3_000_000;
/** How far above its fence a writer may allocate before it must publish a new reservation. */
const RESERVE_US = 5_000_000;
/** A reader's slot snapshot taking longer than this (by its clock) is read again. */
const MAX_SNAPSHOT_MS = 1000;
const LEGACY_ID = 'sequence:changes';

export function slotId(n: number): string {
  return `writer:${n}`;
}

interface SlotDoc {
  kind: 'writer';
  name: string;
  holder: string;
  fence: number;
  reserved: number;
  expires_at: number;
  /** Set by the reader that reaped the slot; the holder's next publish fails on it. */
  dead?: boolean;
  updated_at: number;
}

interface LegacyDoc {
  next?: number;
  updated_at?: number;
  retired_at?: number;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** A slot document as stored, or undefined when it is not one (a damaged document holds nothing back). */
function slotDoc(src: Record<string, unknown> | undefined): SlotDoc | undefined {
  if (src?.kind !== 'writer' || typeof src.holder !== 'string') return undefined;
  const fence = num(src.fence);
  const reserved = num(src.reserved);
  const expires = num(src.expires_at);
  if (fence === undefined || reserved === undefined || expires === undefined) return undefined;
  return {
    kind: 'writer',
    name: String(src.name),
    holder: src.holder,
    fence,
    reserved,
    expires_at: expires,
    ...(src.dead === true ? { dead: true } : {}),
    updated_at: num(src.updated_at) ?? 0,
  };
}

function legacyDoc(src: Record<string, unknown>): LegacyDoc {
  const next = num(src.next);
  const updated = num(src.updated_at);
  const retired = num(src.retired_at);
  return {
    ...(next !== undefined ? { next } : {}),
    ...(updated !== undefined ? { updated_at: updated } : {}),
    ...(retired !== undefined ? { retired_at: retired } : {}),
  };
}

interface Got<T> {
  id: string;
  doc?: T;
  seqNo?: number;
  primaryTerm?: number;
}

export interface SequenceOptions {
  index: string;
  ttlMs: number;
  /** The store's epoch (identity document): positions are microseconds since it. */
  epochMs: number;
  /** Clock-skew allowance between instances (default 2 s). */
  skewMs?: number;
  clock?: () => number;
}

interface Own {
  n: number;
  claim: number;
  seqNo: number;
  primaryTerm: number;
  fence: number;
  reserved: number;
  /** Writer's clock when the last successful publish was sent. */
  publishedAt: number;
}

export class Sequence {
  private readonly clock: () => number;
  readonly skewMs: number;
  private readonly holder = randomUUID();
  private own?: Own;
  private claims = 0;
  private last = 0;
  /** The highest fence computed for a publish (sent or not): allocations stay above it. */
  private promised = 0;
  private readonly inflight = new Map<string, number>();
  private publishing?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  /** Publishes sent (for tests and metrics). */
  publishes = 0;

  constructor(
    private readonly client: Client,
    private readonly opts: SequenceOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
    this.skewMs = opts.skewMs ?? 2000;
  }

  private nowUs(): number {
    return Math.floor((this.clock() - this.opts.epochMs) * 1000);
  }

  /** The first position ≡ n (mod SLOTS) at or above `min`. */
  private align(min: number, n: number): number {
    const r = (((min - n) % SLOTS) + SLOTS) % SLOTS;
    return r === 0 ? min : min + SLOTS - r;
  }

  private async mgetSlots(): Promise<{ slots: Got<SlotDoc>[]; legacy: Got<LegacyDoc> }> {
    const ids = [LEGACY_ID, ...Array.from({ length: SLOTS }, (_, n) => slotId(n))];
    const r = await this.client.mget({ index: this.opts.index, body: { ids } });
    const got = new Map<string, Got<Record<string, unknown>>>();
    for (const d of r.body.docs) {
      if (!('found' in d) || !d.found || !d._source) continue;
      got.set(d._id, { id: d._id, doc: d._source, seqNo: d._seq_no, primaryTerm: d._primary_term });
    }
    const slots = ids.slice(1).map((id) => {
      const g = got.get(id);
      return { ...g, id, doc: slotDoc(g?.doc) };
    });
    const legacy = got.get(LEGACY_ID);
    return { slots, legacy: { ...legacy, id: LEGACY_ID, doc: legacy?.doc && legacyDoc(legacy.doc) } };
  }

  private live(d: SlotDoc, now: number): boolean {
    return !d.dead && d.expires_at + this.skewMs >= now;
  }

  /** Conditional write of a slot document; false on a conflict (someone else wrote it). */
  private async write(id: string, doc: SlotDoc, prev: { seqNo?: number; primaryTerm?: number }) {
    try {
      const r =
        prev.seqNo === undefined
          ? await this.client.create({ index: this.opts.index, id, body: doc })
          : await this.client.index({
              index: this.opts.index,
              id,
              body: doc,
              if_seq_no: prev.seqNo,
              if_primary_term: prev.primaryTerm,
            });
      return { seqNo: r.body._seq_no, primaryTerm: r.body._primary_term };
    } catch (e) {
      if (statusOf(e) === 409 || errorType(e) === 'version_conflict_engine_exception') return undefined;
      throw e;
    }
  }

  /** Claims a free or expired slot, starting above every fence and reservation published. */
  private async claim(): Promise<Own> {
    for (let round = 0; round < SLOTS; round++) {
      const { slots, legacy } = await this.mgetSlots();
      const now = this.clock();
      const floor = this.claimFloor(slots, legacy, now);
      const frees = slots.flatMap((s, n) => (!s.doc || !this.live(s.doc, now) ? [n] : []));
      // a random free slot: instances starting together rarely race for the same one
      const free = frees[Math.floor(Math.random() * frees.length)] ?? -1;
      if (free < 0) {
        throw new StixgateError(
          'STIXGATE_ERR_STORE_UNAVAILABLE',
          `all ${SLOTS} change-log writer slots of ${this.opts.index} are held by live instances`,
          { retryable: true, reason: 'writers_exhausted' },
        );
      }
      const prev = slots[free] ?? { id: slotId(free) };
      const doc: SlotDoc = {
        kind: 'writer',
        name: String(free),
        holder: this.holder,
        fence: floor,
        reserved: floor + RESERVE_US,
        expires_at: now + this.opts.ttlMs,
        updated_at: now,
      };
      const ok = await this.write(slotId(free), doc, prev);
      if (!ok) {
        await sleep(Math.floor(Math.random() * 20));
        continue;
      }
      if (legacy.doc && legacy.doc.retired_at === undefined) await this.retireLegacy(legacy, now);
      this.claims++;
      this.last = floor;
      this.promised = Math.max(this.promised, floor);
      this.own = { n: free, claim: this.claims, ...ok, fence: floor, reserved: doc.reserved, publishedAt: now };
      this.startHeartbeat();
      return this.own;
    }
    throw new StixgateError('STIXGATE_ERR_STORE_UNAVAILABLE', 'change-log writer slots are too contended', {
      retryable: true,
      reason: 'contended',
    });
  }

  /**
   * The first position of a new claim: above the live slots' fences (a reader's horizon is at
   * most their lowest), the join margin above the clock (a reader whose snapshot straddles the
   * claim may have seen fences moved since), and the reservations of the slots a reader could
   * find expired before it sees this claim (with no live slot it reads up to them). The
   * reservations of healthy live slots are left out: they lie up to RESERVE_US ahead, and a
   * writer that started there would stay invisible until every other fence caught up.
   */
  private claimFloor(slots: Got<SlotDoc>[], legacy: Got<LegacyDoc>, now: number): number {
    let floor = Math.max(legacy.doc?.next ?? 0, this.last, this.promised, this.nowUs() + JOIN_MARGIN_US);
    for (const s of slots) {
      const d = s.doc;
      if (!d) continue;
      floor = Math.max(floor, d.fence);
      if (!this.live(d, now + JOIN_MARGIN_US / 1000)) floor = Math.max(floor, d.reserved);
    }
    return floor;
  }

  /**
   * Raises this writer's promise to the highest live fence a snapshot shows. An idle writer
   * then publishes a fence that follows the others (it will not write below what it read), so
   * a writer that runs ahead of it (one that joined above the clock) is not held back until
   * its clock catches up. Safe at any time: chunks in flight still bound the fence from below.
   */
  private follow(slots: Got<SlotDoc>[], now: number): void {
    for (const [n, s] of slots.entries()) {
      const d = s.doc;
      if (!d || n === this.own?.n || !this.live(d, now)) continue;
      this.promised = Math.max(this.promised, d.fence);
    }
  }

  /** The heartbeat: an idle writer reads the other fences first and follows them (see follow). */
  private async heartbeat(): Promise<void> {
    if (this.inflight.size === 0) {
      const { slots } = await this.mgetSlots();
      this.follow(slots, this.clock());
    }
    await this.publish();
  }

  /** Marks the single-counter document of the previous version retired (ADR 0023, mixed versions). */
  private async retireLegacy(legacy: Got<LegacyDoc>, now: number): Promise<void> {
    try {
      await this.client.update({
        index: this.opts.index,
        id: LEGACY_ID,
        body: { doc: { retired_at: now } },
        if_seq_no: legacy.seqNo,
        if_primary_term: legacy.primaryTerm,
      });
    } catch (e) {
      if (statusOf(e) !== 409) throw e;
    }
  }

  private startHeartbeat(): void {
    if (this.timer) return;
    this.timer = setInterval(
      () => void this.heartbeat().catch(() => {}),
      Math.max(50, Math.floor(this.opts.ttlMs / 5)),
    );
    this.timer.unref();
  }

  /** Stops the heartbeat and gives the slot up, so readers need not wait for it to expire. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.publishing?.catch(() => {});
    const own = this.own;
    this.own = undefined;
    if (!own || this.inflight.size > 0) return;
    const now = this.clock();
    const fence = Math.max(own.fence, this.localFence());
    const doc: SlotDoc = {
      kind: 'writer',
      name: String(own.n),
      holder: this.holder,
      fence,
      reserved: fence,
      expires_at: now,
      dead: true,
      updated_at: now,
    };
    await this.write(slotId(own.n), doc, own).catch(() => undefined);
  }

  /** The fence this writer can promise now: below its lowest chunk in flight, else its clock. */
  private localFence(): number {
    let fence = Math.max(this.last, this.promised);
    if (this.inflight.size === 0) fence = Math.max(fence, this.nowUs());
    for (const from of this.inflight.values()) fence = Math.min(fence, from - 1);
    return fence;
  }

  /** The own fence for this process's reads (kept as a promise: later positions stay above it). */
  private ownFence(): number {
    const f = this.localFence();
    this.promised = Math.max(this.promised, f);
    return f;
  }

  /** Publishes the fence (coalesced: one publish at a time, one more if asked meanwhile). */
  publish(): Promise<void> {
    if (this.publishing) {
      this.again = true;
      return this.publishing;
    }
    this.publishing = (async () => {
      try {
        do {
          this.again = false;
          await this.publishOnce();
        } while (this.again);
      } finally {
        this.publishing = undefined;
      }
    })();
    return this.publishing;
  }

  private async publishOnce(): Promise<void> {
    const own = this.own;
    if (!own) return;
    const now = this.clock();
    const fence = Math.max(own.fence, this.localFence());
    this.promised = Math.max(this.promised, fence);
    const reserved = Math.max(own.reserved, this.last + RESERVE_US, fence + RESERVE_US);
    const doc: SlotDoc = {
      kind: 'writer',
      name: String(own.n),
      holder: this.holder,
      fence,
      reserved,
      expires_at: now + this.opts.ttlMs,
      updated_at: now,
    };
    this.publishes++;
    let ok: { seqNo: number; primaryTerm: number } | undefined;
    try {
      ok = await this.write(slotId(own.n), doc, own);
      // a conflict with our own earlier write (a request the client sent again) is still ours
      if (!ok) {
        const cur = (await this.mgetSlots()).slots[own.n];
        if (cur?.doc?.holder === this.holder && !cur.doc.dead && cur.seqNo !== undefined)
          ok = await this.write(slotId(own.n), doc, cur);
      }
    } catch (e) {
      if (statusOf(e) !== 404) throw e;
    }
    if (this.own !== own) return;
    if (!ok) {
      // reaped by a reader, taken over, or the meta index is gone: claim anew before writing more
      this.own = undefined;
      return;
    }
    Object.assign(own, ok, { fence, reserved, publishedAt: now });
  }

  /** Reserves `n` positions for one chunk. */
  async allocate(n: number): Promise<Allocation> {
    const own = this.own ?? (await this.claim());
    // renew before the slot could look expired to a reader, and before passing the reservation
    const min = Math.max(this.last + 1, this.promised + 1, own.fence + 1, this.nowUs());
    const from = this.align(min, own.n);
    const to = from + (n - 1) * SLOTS;
    if (to > own.reserved || this.clock() > own.publishedAt + this.opts.ttlMs / 2) {
      this.last = Math.max(this.last, to);
      this.inflight.set('reserving', from);
      try {
        await this.publish();
      } finally {
        this.inflight.delete('reserving');
      }
      if (this.own !== own) return this.allocate(n);
    }
    const a: Allocation = {
      id: randomUUID(),
      from,
      to,
      step: SLOTS,
      expiresAt: own.publishedAt + this.opts.ttlMs,
      claim: own.claim,
    };
    this.last = Math.max(this.last, to);
    this.inflight.set(a.id, from);
    return a;
  }

  /** Extends an allocation's lease; false when the slot was lost (the writer must re-sequence). */
  async renew(a: Allocation): Promise<boolean> {
    if (this.own?.claim !== a.claim) return false;
    await this.publish();
    if (this.own?.claim !== a.claim) return false;
    a.expiresAt = this.own.publishedAt + this.opts.ttlMs;
    return true;
  }

  /**
   * Ends an allocation (its writes are acknowledged) and publishes the new fence. False when
   * readers may have passed its positions (slot lost or expired meanwhile): re-sequence.
   */
  async commit(a: Allocation): Promise<boolean> {
    this.inflight.delete(a.id);
    const own = this.own;
    const intact = own !== undefined && own.claim === a.claim && this.clock() <= own.publishedAt + this.opts.ttlMs;
    // the new fence makes the chunk readable by every instance once the call returns
    await this.publish();
    return intact && this.own?.claim === a.claim;
  }

  /** `head` and `horizon`: the highest position safe to read up to. */
  async position(): Promise<{ head: number; horizon: number }> {
    for (let round = 0; ; round++) {
      const t0 = this.clock();
      const { slots, legacy } = await this.mgetSlots();
      const now = this.clock();
      if (now - t0 > MAX_SNAPSHOT_MS && round < 3) continue;
      const lg = legacy.doc;
      if (lg?.retired_at !== undefined && (lg.updated_at ?? 0) > lg.retired_at) {
        throw new StixgateError(
          'STIXGATE_ERR_STORE_UNAVAILABLE',
          `an older stixgate instance still writes ${this.opts.index} through the single change-log counter: stop every older instance (docs/opensearch.md#upgrading)`,
          { reason: 'mixed_versions' },
        );
      }
      let horizon = Number.POSITIVE_INFINITY;
      let highest = lg?.next ?? 0;
      let raced = false;
      for (const [n, s] of slots.entries()) {
        const d = s.doc;
        if (!d) continue;
        highest = Math.max(highest, d.fence, d.reserved);
        if (d.dead) continue;
        if (this.own?.n === n && d.holder === this.holder) {
          horizon = Math.min(horizon, this.ownFence());
          continue;
        }
        if (this.live(d, now)) horizon = Math.min(horizon, d.fence);
        // an expired slot is passed only once it is marked dead (its holder then learns it)
        else if (!(await this.write(s.id, { ...d, dead: true, updated_at: now }, s))) raced = true;
      }
      // a slot we could not mark dead was just renewed: read the snapshot again
      if (raced && round < 3) continue;
      if (raced)
        throw new StixgateError('STIXGATE_ERR_STORE_UNAVAILABLE', 'change-log writer slots are too contended', {
          retryable: true,
          reason: 'contended',
        });
      if (horizon === Number.POSITIVE_INFINITY) horizon = highest;
      if (this.own) this.follow(slots, now);
      return { head: horizon, horizon };
    }
  }
}
