import type { ScoreHistoryEntry } from './score-history.js';
import { isObservableType, type StixObject, type TlpLevel, type ObservableType } from '../core/stix.js';
import type { Rejection } from '../core/errors.js';
import type { LedgerReading, LedgerUpdate } from './ledger.js';

/**
 * The Store contract. Every backend (embedded, opensearch) implements it and runs the
 * contract suite in test/store-contract.ts.
 *
 * Semantics:
 *  - Objects are keyed by STIX id. `upsert` merges: newest `modified` wins for content; a stale
 *    version only merges provenance; equal `modified` with different content is resolved
 *    deterministically (larger canonical content hash wins); per-source provenance is kept in
 *    `x_stixgate.sources`; first/last seen widen; labels union; the most restrictive TLP wins;
 *    `valid_until` extends; `revoked: true` sticks.
 *  - A write that changes nothing (same content, provenance within the seen-granularity) is not a
 *    write: no row changes, no change-log entry.
 *  - Every effective change gets the next sequence number in the change log, in the same
 *    transaction as the data and as any cursor committed with it.
 */

export interface IngestItem {
  object: StixObject;
  /** The configured source id that delivered it. */
  source: string;
  /** When the source saw it (defaults to the batch's `now`). */
  seenAt?: string;
  /** Source confidence 0-100 (from the object, the source config or the mapping). */
  confidence?: number;
  /** TLP assigned by the source when the object carries no marking. */
  tlp?: TlpLevel;
}

export interface UpsertOptions {
  /** Injected clock (epoch ms) for provenance timestamps. */
  now: number;
  /** Cursors committed atomically with the data (source id → cursor value). */
  cursors?: Record<string, string>;
}

export interface UpsertResult {
  created: number;
  updated: number;
  unchanged: number;
  /** Stale versions (older `modified`) whose content was ignored. */
  stale: number;
  rejected: Rejection[];
}

/** One entry of the change log: the object's state as of that change. */
export interface Change {
  seq: number;
  id: string;
  type: string;
  /** `upsert` (created or updated), `revoke`, `expire`. */
  op: 'upsert' | 'revoke' | 'expire';
  object: StixObject;
}

/**
 * A read-modify-write of one stored object: returns its new state, or undefined to leave it as
 * it is. Pure: a backend may call it again with a fresher state (optimistic concurrency).
 */
export type ModifyFn = (current: StixObject) => StixObject | undefined;

export interface ModifyOptions {
  /** Injected clock (epoch ms). */
  now: number;
}

export interface ModifyResult {
  /** Objects written (each one change-log entry). */
  updated: number;
  /** `fn` returned undefined, or a state equal to the stored one. */
  unchanged: number;
  /** Ids not in the store. */
  missing: number;
  rejected: Rejection[];
}

export interface ChangePage {
  changes: Change[];
  /** The cursor to pass next time (the last seq returned, or the input cursor). */
  next: number;
}

export interface Query {
  type?: string;
  /** Exact canonical observable value (as indexed from SCO values and indicator patterns). */
  value?: string;
  source?: string;
  /** `modified` range, inclusive, RFC 3339. */
  modifiedFrom?: string;
  modifiedTo?: string;
  /** Case-insensitive substring over name/description/pattern. */
  text?: string;
  includeRevoked?: boolean;
  limit?: number;
  /** Opaque continuation from a previous QueryPage. */
  after?: string;
}

export interface QueryPage {
  objects: StixObject[];
  next?: string;
  /**
   * For each object, the continuation that resumes right after it (same form as `next`), so that a
   * reader filtering the page further can stop part-way and resume there.
   */
  positions?: string[];
}

/** A compact record of one active indicator-or-observable value for the in-memory lookup index. */
export interface IndexEntry {
  id: string;
  type: 'indicator' | ObservableType;
  /** Observable values the object matches, canonical. */
  observables: { type: ObservableType; value: string }[];
  seq: number;
}

/** The types the lookup index holds: indicators and observables. */
export function isIndexedType(type: string): type is IndexEntry['type'] {
  return type === 'indicator' || isObservableType(type);
}

export interface IndexPage {
  entries: IndexEntry[];
  /** The seq to pass next time (the last seq scanned, or the input). */
  next: number;
}

/** One active indicator for the lookup index start-up, with the observables stored for it. */
export interface ActiveIndicator {
  seq: number;
  id: string;
  object: StixObject;
  /** The canonical observables of its pattern as stored, or null when none were stored. */
  observables: { type: ObservableType; value: string }[] | null;
}

export interface ActiveIndicatorPage {
  indicators: ActiveIndicator[];
  /** The seq to pass next time: the last seq returned, or the head once `done`. */
  next: number;
  /** True when no active indicator with seq > `next` exists at the time of the call. */
  done: boolean;
}

/**
 * Cursors whose name starts with this hold the daemon's own bookkeeping (the lookup snapshot's
 * token), not a source's or sink's position: `stats()` leaves them out.
 */
export const INTERNAL_CURSOR_PREFIX = 'internal:';

export interface StoreStats {
  objects: number;
  byType: Record<string, number>;
  revoked: number;
  expired: number;
  changeLogHead: number;
  /** Source, sink and poison cursors by name (not the internal ones). */
  cursors: Record<string, string>;
  bytesOnDisk?: number;
}

/** What one retention pass deletes (src/store/retention.ts). */
export interface PurgeOptions {
  /** Expired objects that ended at or before this (epoch ms) go; undefined: none. */
  expiredBefore?: number;
  /** Revoked objects last delivered at or before this (epoch ms) go; undefined: none. */
  revokedBefore?: number;
  /** Only objects whose last change is at or below this position (every sink's cursor has passed it). */
  maxSeq: number;
  /** Most objects deleted by one call. */
  limit: number;
}

export interface PurgeResult {
  expired: number;
  revoked: number;
  /** Ledger rows deleted with them (values no remaining object lists). */
  ledgerRows: number;
  /** The highest change-log position deleted (0: none). */
  purgedThrough: number;
}

export interface Lease {
  name: string;
  holder: string;
  expiresAt: number;
}

export interface Store {
  readonly kind: string;
  /** Optional: what open() found that does not stop the store (the daemon logs each as a warning). */
  readonly warnings?: readonly string[];
  /** Opens connections, creates schema/templates (idempotent). */
  open(): Promise<void>;
  close(): Promise<void>;
  /** Cheap liveness/readiness probe; throws STIXGATE_ERR_STORE_UNAVAILABLE when not usable. */
  ping(): Promise<void>;

  upsert(items: IngestItem[], opts: UpsertOptions): Promise<UpsertResult>;
  get(id: string): Promise<StixObject | undefined>;
  /** The object with the seq of its last change (its place in the change log), read together. */
  getEntry(id: string): Promise<{ object: StixObject; seq: number } | undefined>;
  getMany(ids: string[]): Promise<Map<string, StixObject>>;
  query(q: Query): Promise<QueryPage>;

  /**
   * Rewrites existing objects: for each distinct id, `fn(stored)` gives the new state (undefined:
   * no write). A new state that serialises to the stored JSON is no write either. Every write is
   * a change-log entry whose op follows the new state (`expire` when `x_stixgate.expired`,
   * `revoke` when revoked, else `upsert`), so sinks and the lookup index see it. Used for
   * re-scoring (decay) and sightings (src/score/); it bypasses the merge policy, so `fn` must keep
   * the object's invariants (it may only change `x_stixgate` and a derived `valid_until`).
   * Embedded: one transaction; OpenSearch: per-object optimistic concurrency, `fn` re-run on a
   * conflict. At most 10,000 ids per call.
   */
  modify(ids: string[], fn: ModifyFn, opts: ModifyOptions): Promise<ModifyResult>;

  /** Marks every object whose `valid_until` <= now as expired and logs an `expire` change. */
  expire(now: number): Promise<number>;

  /**
   * Optional retention (src/store/retention.ts): deletes at most `limit` ended objects due under
   * `o` whose last change is at or below `o.maxSeq`, with the ledger rows of the values no
   * remaining object lists; records the highest position deleted in RETENTION_CURSOR first.
   */
  purge?(o: PurgeOptions): Promise<PurgeResult>;

  /** Changes with seq > after, in seq order, at most `limit`. */
  changes(after: number, limit: number): Promise<ChangePage>;
  head(): Promise<number>;

  getCursor(name: string): Promise<string | undefined>;
  setCursor(name: string, value: string): Promise<void>;

  /**
   * Optional delivery ledger (src/store/ledger.ts): writes a sink's ledger updates and, when given,
   * its cursor in one transaction, so the ledger never runs ahead of or behind the cursor.
   * `now` (epoch ms) is the `since` of rows whose state changes.
   */
  commitDeliveries?(
    sink: string,
    updates: LedgerUpdate[],
    cursor: { name: string; value: string } | undefined,
    now: number,
  ): Promise<void>;
  /** Optional: the ledger rows of these record keys (every sink), and the last change of an object listing `value`. */
  deliveries?(keys: string[], value: string): Promise<LedgerReading>;
  /** Optional: the object's score history (src/store/score-history.ts), oldest first, at most SCORE_HISTORY_CAP entries. */
  scoreHistory?(id: string): Promise<ScoreHistoryEntry[]>;

  /** Take or renew a lease; true when `holder` holds it until now+ttlMs. */
  acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;

  stats(): Promise<StoreStats>;

  /**
   * Optional fast scan for the lookup index start-up: active indicators and observables with their
   * canonical observable values, seq > after, in seq order. An entry list shorter than `limit`
   * does not mean the end (non-indexable objects are skipped); stop when `next` stops moving.
   */
  indexEntries?(after: number, limit: number): Promise<IndexPage>;

  /**
   * Optional fast scan for building the lookup index from scratch: the active (state upsert)
   * indicators with seq > after, in seq order, at most `limit`. Stores without it are read
   * through `changes()`.
   */
  activeIndicators?(after: number, limit: number): Promise<ActiveIndicatorPage>;
}
