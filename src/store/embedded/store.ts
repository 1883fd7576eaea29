import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { StixgateError } from '../../core/errors.js';
import type { StixObject } from '../../core/stix.js';
import type {
  ActiveIndicator,
  ActiveIndicatorPage,
  Change,
  ChangePage,
  IndexEntry,
  IndexPage,
  IngestItem,
  ModifyFn,
  ModifyOptions,
  ModifyResult,
  Query,
  QueryPage,
  Store,
  StoreStats,
  UpsertOptions,
  UpsertResult,
} from '../contract.js';
import { INTERNAL_CURSOR_PREFIX, isIndexedType } from '../contract.js';
import {
  DEFAULT_SEEN_GRANULARITY_MS,
  mergeObject,
  modifyIds,
  resultJson,
  storedJson,
  type MergeContext,
} from '../merge.js';
import type { Scoring } from '../../score/model.js';
import { classify, closeDatabase, openDatabase, type OpenedDatabase } from './open.js';
import { buildQuery, encodeAfter, normaliseTime } from './query.js';
import { decodeObservables, encodeObservables, encodeValueKeys, valueKeysOf, valuesOf } from './values.js';
import { checkIngestItem } from '../ingest-check.js';
import { objectObservables } from '../../core/object-observables.js';
import { KeyIndex, keyHash } from './key-index.js';
import { KEY_SNAPSHOT_FILE, readKeySnapshot, removeKeySnapshot, writeKeySnapshot } from './key-snapshot.js';
import { HotCache, fingerprint, type Printed } from './hot-cache.js';
import { planModify, type ModifyWrite } from './modify.js';
import { at, entry, last } from '../../core/indexed.js';
import { storedObject } from '../stored-object.js';
import { LedgerTable } from './ledger.js';
import { ScoreHistoryTable } from './score-history.js';
import { scoreChange, type ScoreHistoryEntry } from '../score-history.js';
import type { LedgerReading, LedgerUpdate } from '../ledger.js';
import { RETENTION_CURSOR, type PurgeOptions, type PurgeResult } from '../retention.js';
import { purgeEnded } from './retention.js';
import { STATE_ACTIVE, STATE_EXPIRED, STATE_REVOKED, type ObjectRow } from './rows.js';

export interface EmbeddedStoreOptions {
  dataDir: string;
  /** `normal` (default): durable against process crashes; `full`: also against power loss. */
  sync?: 'normal' | 'full';
  seenGranularityMs?: number;
  /** SQLite page cache in MiB (default 256). */
  cacheMb?: number;
  readonly?: boolean;
  /** PRAGMA quick_check at open: after an unclean shutdown (default), always, never. */
  integrityCheck?: 'after-crash' | 'always' | 'never';
  /**
   * Entries of the unchanged-upsert cache (id → input fingerprints); 0 disables it. Default 2M
   * (about 230 B each on the writer's heap); one-shot commands open with COMMAND_HOT_CACHE_ENTRIES.
   */
  hotCacheSize?: number;
  /** Score weights and decay models (compileScoring of `scoring:`); default: no decay. */
  scoring?: Scoring;
  /** Called with the SQL of every statement the engine runs (tests count them). */
  onStatement?: (sql: string) => void;
}

/** Most ids one modify() call takes. */
export { MAX_MODIFY_IDS } from '../merge.js';

const READ_CHUNK = 500;
/** Rows of object_keys per page when the key tables are loaded by scan. */
const KEY_PAGE = 50_000;
const OPS: readonly Change['op'][] = ['upsert', 'revoke', 'expire'];
type Row = ObjectRow;

interface Work {
  item: IngestItem;
  print: string;
}

interface Pending {
  id: string;
  /** Deliveries of this id in the batch not merged yet. */
  left: number;
  obj: StixObject | undefined;
  json: string | undefined;
  row: Row | undefined;
  /** The stored object before this batch (its score history compares against it). */
  before: StixObject | undefined;
  dirty: boolean;
  /** Deliveries merged into this id in this batch since its last change (for the hot cache). */
  prints: Printed[];
}

/** A change-log row: seq, id, type, state, stored JSON. */
export type ChangeRow = [number, string, string, number, string];

/** Change-log rows (seq order) as a page of changes. */
export function changePage(rows: readonly ChangeRow[], after: number): ChangePage {
  const changes: Change[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const [seq, id, type, state, json] = at(rows, i);
    changes[i] = { seq, id, type, op: OPS[state] ?? 'upsert', object: storedObject(json) };
  }
  return { changes, next: rows.at(-1)?.[0] ?? after };
}

/** Sets an own data property whatever the key (never a prototype setter such as `__proto__`). */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function stateOf(obj: StixObject): number {
  if (obj.revoked === true) return STATE_REVOKED;
  if (obj.x_stixgate?.expired === true) return STATE_EXPIRED;
  return STATE_ACTIVE;
}

/** Per-column memo of the last time text converted: a feed's objects share their timestamps. */
class LastTime<T> {
  private text: string | undefined;
  private value!: T;
  constructor(private readonly convert: (text: string) => T) {}
  of(text: string): T {
    if (text !== this.text) {
      this.value = this.convert(text);
      this.text = text;
    }
    return this.value;
  }
}

function parseMs(text: string): number | null {
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : t;
}

/** The default Store: SQLite (better-sqlite3) in the data directory. See docs/adr/0001 and 0002. */
export class EmbeddedStore implements Store {
  readonly kind = 'embedded';
  private opened?: OpenedDatabase;
  private seq = 0;
  private readonly gran: number;
  private readonly hot: HotCache;
  /** id and value → rowid (ADR 0006); loaded from `object_keys` at open. */
  private readonly keys = new KeyIndex();
  /** Read-only opens: the change-log head the key tables have caught up with. */
  private keysSeq = 0;
  /** Where the key tables came from at open. */
  private keysFrom: 'snapshot' | 'scan' = 'scan';
  private readonly readStmts = new Map<number, Database.Statement<number[], Row>>();
  private s!: ReturnType<EmbeddedStore['prepare']>;
  private ledger!: LedgerTable;
  private history!: ScoreHistoryTable;
  private readonly modifiedTime = new LastTime(normaliseTime);
  private readonly validUntilTime = new LastTime(parseMs);
  /** Changes of the per-(type, state) counts made by the open write transaction ("state\ttype" → delta). */
  private readonly countDelta = new Map<string, number>();

  constructor(private readonly opts: EmbeddedStoreOptions) {
    this.gran = opts.seenGranularityMs ?? DEFAULT_SEEN_GRANULARITY_MS;
    this.hot = new HotCache(opts.hotCacheSize ?? 2_000_000);
  }

  async open(): Promise<void> {
    if (this.opened) return;
    this.opened = openDatabase({
      dataDir: this.opts.dataDir,
      sync: this.opts.sync ?? 'full',
      readonly: this.opts.readonly ?? false,
      integrityCheck: this.opts.integrityCheck ?? 'after-crash',
      cacheMb: this.opts.cacheMb,
      onStatement: this.opts.onStatement,
    });
    try {
      this.s = this.prepare(this.opened.db);
      this.ledger = new LedgerTable(this.opened.db);
      this.history = new ScoreHistoryTable(this.opened.db, this.ledger);
      // retention may have deleted the last change: never number a change at or below what it deleted
      const purged = Number(this.s.getCursor.get(RETENTION_CURSOR) ?? 0);
      this.seq = Math.max(this.s.head.get()?.h ?? 0, purged);
      const snapshot = join(this.opts.dataDir, KEY_SNAPSHOT_FILE);
      const token = this.s.getMeta.get('keys_token') ?? '';
      this.keysFrom = token !== '' && readKeySnapshot(snapshot, token, this.seq, this.keys) ? 'snapshot' : 'scan';
      if (this.keysFrom === 'snapshot') this.keysSeq = this.seq;
      else this.loadKeys();
      if (!this.opts.readonly) {
        // from the first write on, the snapshot no longer describes the store: never use it again
        this.s.setMeta.run('keys_token', '');
        removeKeySnapshot(snapshot);
      }
    } catch (e) {
      const opened = this.opened;
      this.opened = undefined;
      try {
        closeDatabase(opened, true);
      } catch {
        /* already failing */
      }
      throw classify(opened.path, e);
    }
  }

  async close(): Promise<void> {
    const opened = this.opened;
    if (!opened) return;
    this.opened = undefined;
    this.readStmts.clear();
    this.hot.clear();
    const readonly = this.opts.readonly ?? false;
    const token = readonly ? '' : randomUUID();
    try {
      if (!readonly) this.s.setMeta.run('keys_token', token);
      closeDatabase(opened, readonly);
    } catch (e) {
      this.keys.clear();
      throw e;
    }
    if (!readonly) {
      // the next open loads the key tables from here instead of scanning object_keys; a failure
      // (disk full) only costs that scan
      const snapshot = join(this.opts.dataDir, KEY_SNAPSHOT_FILE);
      try {
        writeKeySnapshot(snapshot, token, this.seq, this.keys);
      } catch {
        try {
          removeKeySnapshot(snapshot);
        } catch {
          /* nothing more to do */
        }
      }
    }
    this.keys.clear();
  }

  async ping(): Promise<void> {
    this.run(() => this.s.ping.get());
  }

  private prepare(db: Database.Database) {
    return {
      ping: db.prepare('SELECT 1'),
      getMeta: db.prepare<unknown[], string>('SELECT value FROM meta WHERE key = ?').pluck(),
      setMeta: db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      ),
      head: db.prepare<unknown[], { h: number | null }>('SELECT max(seq) AS h FROM objects'),
      insert: db.prepare(
        'INSERT INTO objects (id, type, modified, state, valid_until, seq, obs, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      update: db.prepare(
        'UPDATE objects SET type = ?, modified = ?, state = ?, valid_until = ?, seq = ?, obs = ?, json = ? WHERE rowid = ?',
      ),
      insertKeys: db.prepare('INSERT INTO object_keys (obj, id_key, value_keys) VALUES (?, ?, ?)'),
      updateValueKeys: db.prepare('UPDATE object_keys SET value_keys = ? WHERE obj = ?'),
      // a page of object_keys as one hex string, three times faster to load than a row per call.
      // Per row: obj, id_key, a word for the value keys (0: none; 1: one INTEGER, then it in
      // big-endian hex; 0x80000000 + n: a BLOB of n keys, then its bytes, little-endian)
      keysPage: db
        .prepare<
          unknown[],
          string | null
        >(`SELECT group_concat(printf('%08x%08x', obj, id_key) || CASE typeof(value_keys)
          WHEN 'integer' THEN '00000001' || printf('%08x', value_keys)
          WHEN 'real' THEN '00000001' || printf('%08x', CAST(value_keys AS INTEGER))
          WHEN 'blob' THEN printf('%08x', 2147483648 + length(value_keys) / 4) || hex(value_keys)
          ELSE '00000000' END, '')
        FROM (SELECT obj, id_key, value_keys FROM object_keys WHERE obj > ? ORDER BY obj LIMIT ${KEY_PAGE})`)
        .pluck(),
      maxKeyRow: db.prepare<unknown[], number | null>('SELECT max(obj) FROM object_keys').pluck(),
      keysSince: db
        .prepare<unknown[], [number, string, string | null]>(
          'SELECT rowid, id, obs FROM objects WHERE seq > ? ORDER BY seq',
        )
        .raw(),
      obsOf: db
        .prepare<unknown[], [number, string | null]>(
          'SELECT rowid, obs FROM objects WHERE rowid IN (SELECT value FROM json_each(?))',
        )
        .raw(),
      changes: db
        .prepare<unknown[], ChangeRow>(
          'SELECT seq, id, type, state, json FROM objects WHERE seq > ? ORDER BY seq LIMIT ?',
        )
        .raw(),
      index: db.prepare<unknown[], { seq: number; id: string; type: string; obs: string }>(
        'SELECT seq, id, type, obs FROM objects WHERE seq > ? AND state = 0 AND obs IS NOT NULL ORDER BY seq LIMIT ?',
      ),
      lastSeq: db.prepare('SELECT seq FROM objects WHERE seq > ? ORDER BY seq LIMIT 1 OFFSET ?').pluck(),
      dueExpiry: db.prepare<unknown[], { rowid: number; type: string; json: string }>(
        'SELECT rowid, type, json FROM objects WHERE state = 0 AND valid_until IS NOT NULL AND valid_until <= ? ORDER BY valid_until',
      ),
      expireRow: db.prepare('UPDATE objects SET state = 2, seq = ?, json = ? WHERE rowid = ?'),
      getCursor: db.prepare<unknown[], string>('SELECT value FROM cursors WHERE name = ?').pluck(),
      setCursor: db.prepare(
        'INSERT INTO cursors (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value',
      ),
      maxSeqOf: db
        .prepare<unknown[], number | null>(
          'SELECT max(seq) FROM objects WHERE rowid IN (SELECT value FROM json_each(?))',
        )
        .pluck(),
      allCursors: db.prepare<unknown[], { name: string; value: string }>(
        'SELECT name, value FROM cursors ORDER BY name',
      ),
      getLease: db.prepare<unknown[], { holder: string; expires_at: number }>(
        'SELECT holder, expires_at FROM leases WHERE name = ?',
      ),
      putLease: db.prepare(
        'INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at',
      ),
      dropLease: db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?'),
      counts: db.prepare<unknown[], { type: string; state: number; n: number }>(
        'SELECT type, state, n FROM counts WHERE n <> 0 ORDER BY type',
      ),
      addCount: db.prepare(
        'INSERT INTO counts (type, state, n) VALUES (?, ?, ?) ON CONFLICT(type, state) DO UPDATE SET n = n + excluded.n',
      ),
    };
  }

  private db(): Database.Database {
    if (!this.opened) {
      throw new StixgateError('STIXGATE_ERR_STORE_UNAVAILABLE', 'store is not open', { reason: 'closed' });
    }
    return this.opened.db;
  }

  /** Runs engine work, turning engine errors into store errors. */
  private run<T>(fn: () => T): T {
    const db = this.db();
    try {
      return fn();
    } catch (e) {
      throw classify(this.opened?.path ?? db.name, e);
    }
  }

  /** Builds the key tables from `object_keys` (one sequential scan of ~20 B per object). */
  private loadKeys(): void {
    const { ids, values } = this.keys;
    this.keys.clear();
    // a read-only open first notes the head, so that refreshKeys covers whatever the writer adds
    // between here and the end of the scan
    this.keysSeq = this.seq;
    const rows = this.s.maxKeyRow.get() ?? 0;
    if (rows > 0) {
      ids.reserve(rows);
      values.reserve(rows);
    }
    for (let after = 0; ; ) {
      const hex = this.s.keysPage.get(after);
      if (!hex) break;
      const b = Buffer.from(hex, 'hex');
      let obj = 0;
      for (let i = 0; i < b.length; ) {
        obj = b.readUInt32BE(i);
        ids.add(b.readUInt32BE(i + 4), obj);
        const word = b.readUInt32BE(i + 8);
        i += 12;
        if (word === 1) {
          values.add(b.readUInt32BE(i), obj);
          i += 4;
        } else if (word !== 0) {
          const n = word - 0x80000000;
          for (let k = 0; k < n; k++, i += 4) values.add(b.readUInt32LE(i), obj);
        }
      }
      after = obj;
    }
  }

  /**
   * A read-only open follows the writer: objects changed since the last look get their keys
   * added (a key the writer removed stays as a stale candidate, which confirmation drops).
   */
  private refreshKeys(): void {
    if (!this.opts.readonly) return;
    const head = this.s.head.get()?.h ?? 0;
    if (head <= this.keysSeq) return;
    const { ids, values } = this.keys;
    for (const [rowid, id, obs] of this.s.keysSince.iterate(this.keysSeq)) {
      const k = keyHash(id);
      if (!ids.has(k, rowid)) ids.add(k, rowid);
      for (const v of valueKeysOf(obs)) if (!values.has(v, rowid)) values.add(v, rowid);
    }
    this.keysSeq = head;
    this.seq = Math.max(this.seq, head);
  }

  /** Rows of these ids; an id not stored costs a hash probe and no read. */
  private readRows(ids: readonly string[]): Map<string, Row> {
    const out = new Map<string, Row>();
    this.refreshKeys();
    const cand: number[] = [];
    for (const id of ids) this.keys.ids.get(keyHash(id), cand);
    if (cand.length === 0) return out;
    const wanted = ids.length === 1 ? undefined : new Set(ids);
    cand.sort((a, b) => a - b);
    for (let i = 0; i < cand.length; i += READ_CHUNK) {
      const chunk = cand.slice(i, i + READ_CHUNK);
      let stmt = this.readStmts.get(chunk.length);
      if (!stmt) {
        stmt = this.db().prepare<number[], Row>(
          `SELECT rowid, id, type, state, obs, json, seq FROM objects WHERE rowid IN (${chunk.map(() => '?').join(',')})`,
        );
        this.readStmts.set(chunk.length, stmt);
      }
      // a candidate is confirmed by its id (another key may share the 32-bit hash)
      for (const row of stmt.all(...chunk)) if (wanted ? wanted.has(row.id) : row.id === ids[0]) out.set(row.id, row);
    }
    return out;
  }

  /** Rowids of the objects holding `value`, ascending. */
  private rowidsOfValue(value: string): number[] {
    this.refreshKeys();
    const cand = this.keys.values.get(keyHash(value));
    if (cand.length === 0) return cand;
    const out: number[] = [];
    for (const [rowid, obs] of this.s.obsOf.all(JSON.stringify(cand))) {
      if (valuesOf(obs).includes(value)) out.push(rowid);
    }
    return out.sort((a, b) => a - b);
  }

  /**
   * `objectJson[i]`, when given, is JSON.stringify(items[i].object), already made by the caller
   * (the threaded store ships objects as JSON): the fingerprint is taken from it.
   */
  async upsert(
    items: IngestItem[],
    opts: UpsertOptions,
    objectJson?: readonly (string | undefined)[],
  ): Promise<UpsertResult> {
    const result: UpsertResult = { created: 0, updated: 0, unchanged: 0, stale: 0, rejected: [] };
    const ctx: MergeContext = {
      now: opts.now,
      seenGranularityMs: this.gran,
      ...(this.opts.scoring ? { scoring: this.opts.scoring } : {}),
    };
    const useHot = this.hot.enabled;
    const work: Work[] = [];
    /** id → how many of its deliveries are in `work`. */
    const need = new Map<string, number>();
    for (let i = 0; i < items.length; i++) {
      const item = at(items, i);
      const bad = checkIngestItem(item, i);
      if (bad) {
        result.rejected.push(bad);
        continue;
      }
      const id = item.object.id;
      const print = useHot ? fingerprint(item, objectJson?.[i]) : '';
      const seen = need.get(id);
      if (useHot && seen === undefined && this.hot.isFixedPoint(id, print, item, opts.now, this.gran)) {
        result.unchanged++;
        continue;
      }
      work.push({ item, print });
      need.set(id, (seen ?? 0) + 1);
    }
    this.writing(() => this.applyBatch(work, need, ctx, result, opts.cursors));
    return result;
  }

  /**
   * Merges and writes a batch. Ids are written in the order of their first delivery (the order of
   * their seq), each as soon as its last delivery is merged and every id before it is written, so
   * that a batch without repeated ids holds no merged object or JSON longer than one item.
   */
  private applyBatch(
    work: Work[],
    need: Map<string, number>,
    ctx: MergeContext,
    result: UpsertResult,
    cursors: Record<string, string> | undefined,
  ): void {
    const rows = need.size > 0 ? this.readRows([...need.keys()]) : new Map<string, Row>();
    const pending = new Map<string, Pending>();
    /** Ids in order of first delivery whose writing waits (theirs or an earlier id's deliveries remain). */
    const queue: (Pending | undefined)[] = [];
    let head = 0;
    for (const { item, print } of work) {
      const id = item.object.id;
      let p = pending.get(id);
      if (!p) {
        const row = rows.get(id);
        const obj = row ? storedObject(row.json) : undefined;
        p = {
          id,
          obj,
          json: row?.json,
          row,
          before: obj,
          dirty: false,
          prints: [],
          left: need.get(id) ?? 1,
        };
        pending.set(id, p);
        queue.push(p);
      }
      p.left--;
      this.mergeInto(p, item, print, ctx, result);
      for (let done = queue[head]; done !== undefined && done.left === 0; done = queue[head]) {
        queue[head++] = undefined;
        pending.delete(done.id);
        this.finish(done, ctx.now);
      }
    }
    if (cursors) for (const [name, value] of Object.entries(cursors)) this.s.setCursor.run(name, String(value));
  }

  /**
   * Runs `fn` in a write transaction that also commits the count changes it made. On failure it
   * is rolled back: the head is what it was, the key tables take back their changes, and the hot
   * cache, which may already hold deliveries of the batch, forgets everything (a miss only costs
   * the normal path).
   */
  private writing<T>(fn: () => T): T {
    const seq0 = this.seq;
    this.keys.begin();
    this.countDelta.clear();
    try {
      const r = this.run(() =>
        this.db().transaction(() => {
          const out = fn();
          this.flushCounts();
          return out;
        })(),
      );
      this.keys.commit();
      return r;
    } catch (e) {
      this.seq = seq0;
      this.keys.rollback();
      this.countDelta.clear();
      this.hot.clear();
      this.ledger.forget(); // strings the score history interned in it are gone
      throw e;
    }
  }

  /** One object of `type` entered (`d` = 1) or left (-1) `state`. */
  private count(type: string, state: number, d: number): void {
    const key = `${state}\t${type}`;
    this.countDelta.set(key, (this.countDelta.get(key) ?? 0) + d);
  }

  private flushCounts(): void {
    for (const [key, d] of this.countDelta) {
      if (d === 0) continue;
      const tab = key.indexOf('\t');
      this.s.addCount.run(key.slice(tab + 1), Number(key.slice(0, tab)), d);
    }
    this.countDelta.clear();
  }

  private mergeInto(p: Pending, item: IngestItem, print: string, ctx: MergeContext, result: UpsertResult): void {
    let r: ReturnType<typeof mergeObject>;
    let json: string | undefined;
    try {
      r = mergeObject(p.obj, item, p.json === undefined ? ctx : { ...ctx, existingJson: p.json });
      if (r.outcome === 'created' || r.outcome === 'updated') json = resultJson(r);
    } catch (e) {
      // canonical JSON refuses values with no JSON form (NaN, Infinity, BigInt): reject the item
      if (!(e instanceof TypeError)) throw e;
      result.rejected.push({
        reason: 'stix_invalid',
        message: `object ${p.id} is not serialisable: ${e.message}`,
        location: { source: item.source, objectId: p.id },
      });
      return;
    }
    result[r.outcome]++;
    if (json !== undefined) {
      p.obj = r.object;
      p.json = json;
      p.dirty = true;
      p.prints = [];
    }
    if (print) p.prints.push({ print, item });
  }

  private finish(p: Pending, now: number): void {
    if (p.dirty && p.obj && p.json !== undefined)
      this.writeObject(p.obj, p.json, p.row, p.row && scoreChange(p.before, p.obj, now));
    if (p.obj) this.hot.remember(p.id, p.prints, p.obj, p.dirty);
  }

  /** Writes an object as the next change; `change` is the score history entry of that write, if any. */
  private writeObject(obj: StixObject, json: string, row: Row | undefined, change?: ScoreHistoryEntry): void {
    const seq = ++this.seq;
    const obs = encodeObservables(objectObservables(obj));
    const state = stateOf(obj);
    const modified = typeof obj.modified === 'string' ? this.modifiedTime.of(obj.modified) : null;
    const vu = typeof obj.valid_until === 'string' ? this.validUntilTime.of(obj.valid_until) : null;
    const keys = this.keys;
    if (!row) {
      this.count(obj.type, state, 1);
      const rowid = Number(this.s.insert.run(obj.id, obj.type, modified, state, vu, seq, obs, json).lastInsertRowid);
      const idKey = keyHash(obj.id);
      const valueKeys = valueKeysOf(obs);
      keys.add(keys.ids, idKey, rowid);
      for (const k of valueKeys) keys.add(keys.values, k, rowid);
      this.s.insertKeys.run(rowid, idKey, encodeValueKeys(valueKeys));
      return;
    }
    this.s.update.run(obj.type, modified, state, vu, seq, obs, json, row.rowid);
    if (change) this.history.write(row.rowid, seq, change);
    if (row.type !== obj.type || row.state !== state) {
      this.count(row.type, row.state, -1);
      this.count(obj.type, state, 1);
    }
    if (obs !== row.obs) {
      const before = valueKeysOf(row.obs);
      const after = valueKeysOf(obs);
      for (const k of before) if (!after.includes(k)) keys.remove(keys.values, k, row.rowid);
      for (const k of after) if (!before.includes(k)) keys.add(keys.values, k, row.rowid);
      this.s.updateValueKeys.run(encodeValueKeys(after), row.rowid);
    }
  }

  async get(id: string): Promise<StixObject | undefined> {
    const row = this.run(() => this.readRows([id])).get(id);
    return row === undefined ? undefined : storedObject(row.json);
  }

  async getEntry(id: string): Promise<{ object: StixObject; seq: number } | undefined> {
    const row = this.run(() => this.readRows([id])).get(id);
    return row === undefined ? undefined : { object: storedObject(row.json), seq: row.seq };
  }

  async getMany(ids: string[]): Promise<Map<string, StixObject>> {
    const rows = this.run(() => this.readRows([...new Set(ids)]));
    const out = new Map<string, StixObject>();
    for (const id of ids) {
      const row = rows.get(id);
      if (row && !out.has(id)) out.set(id, storedObject(row.json));
    }
    return out;
  }

  async query(q: Query): Promise<QueryPage> {
    let holders: number[] | undefined;
    if (q.value !== undefined) {
      const value = q.value;
      holders = this.run(() => this.rowidsOfValue(value));
    }
    const built = buildQuery(q, holders);
    if (holders?.length === 0) return { objects: [], positions: [] };
    const rows = this.run(() =>
      this.db()
        .prepare<unknown[], { r: number; json: string }>(built.sql)
        .all(...built.params),
    );
    const page = rows.slice(0, built.limit);
    const out: QueryPage = {
      objects: page.map((r) => storedObject(r.json)),
      positions: page.map((r) => encodeAfter(r.r)),
    };
    if (rows.length > built.limit) out.next = encodeAfter(last(page).r);
    return out;
  }

  async modify(ids: string[], fn: ModifyFn, _opts: ModifyOptions): Promise<ModifyResult> {
    const uniq = modifyIds(ids);
    const result: ModifyResult = { updated: 0, unchanged: 0, missing: 0, rejected: [] };
    this.writing(() => {
      const rows = this.readRows(uniq);
      const stored = new Map<string, string>();
      for (const [id, row] of rows) stored.set(id, row.json);
      const writes = planModify(uniq, stored, fn, result, _opts.now);
      for (const w of writes) this.writeModified(w, entry(rows, w.id));
      result.updated = writes.length;
    });
    return result;
  }

  /** The stored JSON of each id found (the threaded store's modify runs its function on them). */
  async storedJsonOf(ids: string[]): Promise<Map<string, string>> {
    const rows = this.run(() => this.readRows(modifyIds(ids)));
    const out = new Map<string, string>();
    for (const [id, row] of rows) out.set(id, row.json);
    return out;
  }

  /**
   * Applies writes planned from stored JSON (planModify), in one transaction, each only while its
   * row still holds the JSON it was planned from. Returns how many were written and the ids
   * whose row changed or went since (to plan again).
   */
  async applyModified(writes: ModifyWrite[]): Promise<{ updated: number; conflicts: string[] }> {
    const out = { updated: 0, conflicts: [] as string[] };
    this.writing(() => {
      const rows = this.readRows(modifyIds(writes.map((w) => w.id)));
      for (const w of writes) {
        const row = rows.get(w.id);
        if (!row || row.json !== w.expect) out.conflicts.push(w.id);
        else {
          this.writeModified(w, row);
          out.updated++;
        }
      }
    });
    return out;
  }

  private writeModified(w: ModifyWrite, row: Row): void {
    this.writeObject(w.next, w.json, row, w.history);
    this.hot.forget(w.id);
  }

  async expire(now: number): Promise<number> {
    return this.writing(() => {
      const due = this.s.dueExpiry.all(now);
      for (const row of due) {
        const obj = storedObject(row.json);
        obj.x_stixgate = { ...(obj.x_stixgate ?? { sources: {} }), expired: true };
        this.s.expireRow.run(++this.seq, storedJson(obj), row.rowid);
        this.count(row.type, STATE_ACTIVE, -1);
        this.count(row.type, STATE_EXPIRED, 1);
        this.hot.forget(obj.id);
      }
      return due.length;
    });
  }

  /** Retention (./retention.ts), in one write transaction. */
  async purge(o: PurgeOptions): Promise<PurgeResult> {
    return this.writing(() =>
      purgeEnded(
        {
          db: this.db(),
          keys: this.keys,
          rowidsOfValue: (v) => this.rowidsOfValue(v),
          uncount: (type, state) => this.count(type, state, -1),
          forget: (id) => this.hot.forget(id),
        },
        o,
      ),
    );
  }

  async changes(after: number, limit: number): Promise<ChangePage> {
    return changePage(await this.changeRows(after, limit), after);
  }

  /** The change-log rows as stored, unparsed (the threaded store parses them on the reader's side). */
  async changeRows(after: number, limit: number): Promise<ChangeRow[]> {
    return this.run(() => this.s.changes.all(after, limit));
  }

  /** Active indicators and observables with their canonical values, in seq order (lookup start-up). */
  async indexEntries(after: number, limit: number): Promise<IndexPage> {
    const rows = this.run(() => this.s.index.all(after, limit));
    const entries: IndexEntry[] = [];
    for (const r of rows) {
      if (!isIndexedType(r.type)) continue;
      entries.push({
        id: r.id,
        type: r.type,
        observables: decodeObservables(r.obs),
        seq: r.seq,
      });
    }
    return { entries, next: rows.at(-1)?.seq ?? after };
  }

  /** Active indicators with their stored observables, in seq order (lookup index start-up). */
  async activeIndicators(after: number, limit: number): Promise<ActiveIndicatorPage> {
    return this.run(() => {
      const rows = this.db()
        .prepare<unknown[], { seq: number; id: string; obs: string | null; json: string }>(
          `SELECT seq, id, obs, json FROM objects WHERE seq > ? AND type = 'indicator' AND state = ${STATE_ACTIVE} ORDER BY seq LIMIT ?`,
        )
        .all(after, limit);
      const indicators: ActiveIndicator[] = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const r = at(rows, i);
        indicators[i] = {
          seq: r.seq,
          id: r.id,
          object: storedObject(r.json),
          observables: r.obs === null ? null : decodeObservables(r.obs),
        };
      }
      // synchronous with every write on this connection, so the head read here is the scan's end
      const end = rows.at(-1)?.seq ?? after;
      const done = rows.length < limit;
      return { indicators, next: done ? Math.max(end, this.seq) : end, done };
    });
  }

  /** Entries and memory of the in-memory key tables (ADR 0006). */
  keyIndexStats(): { ids: number; values: number; bytes: number; loadedFrom: 'snapshot' | 'scan' } {
    const { ids, values } = this.keys;
    return { ids: ids.size, values: values.size, bytes: ids.bytes + values.bytes, loadedFrom: this.keysFrom };
  }

  /** Entries held by the unchanged-upsert cache (at most `hotCacheSize`). */
  hotCacheEntries(): number {
    return this.hot.size;
  }

  async head(): Promise<number> {
    this.db();
    return this.seq;
  }

  async getCursor(name: string): Promise<string | undefined> {
    return this.run(() => this.s.getCursor.get(name));
  }

  async setCursor(name: string, value: string): Promise<void> {
    this.run(() => this.s.setCursor.run(name, value));
  }

  /** The delivery ledger (src/store/ledger.ts): a sink's updates and its cursor, in one transaction. */
  async commitDeliveries(
    sink: string,
    updates: LedgerUpdate[],
    cursor: { name: string; value: string } | undefined,
    now: number,
  ): Promise<void> {
    try {
      this.run(() =>
        this.db().transaction(() => {
          this.ledger.write(sink, updates, now);
          if (cursor) this.s.setCursor.run(cursor.name, cursor.value);
        })(),
      );
    } catch (e) {
      this.ledger.forget();
      throw e;
    }
  }

  /** The ledger rows of these record keys, and the last change of an object listing `value`. */
  async deliveries(keys: string[], value: string): Promise<LedgerReading> {
    return this.run(() => {
      const rowids = this.rowidsOfValue(value);
      const valueSeq = rowids.length ? (this.s.maxSeqOf.get(JSON.stringify(rowids)) ?? 0) : 0;
      return { rows: this.ledger.read(keys), valueSeq };
    });
  }

  /** The score history of an object (oldest first; empty for an unknown id). */
  async scoreHistory(id: string): Promise<ScoreHistoryEntry[]> {
    return this.run(() => {
      const row = this.readRows([id]).get(id);
      return row ? this.history.read(row.rowid) : [];
    });
  }

  async acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    return this.run(() =>
      this.db()
        .transaction(() => {
          const cur = this.s.getLease.get(name);
          if (cur && cur.holder !== holder && cur.expires_at > now) return false;
          this.s.putLease.run(name, holder, now + ttlMs);
          return true;
        })
        .immediate(),
    );
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    this.run(() => this.s.dropLease.run(name, holder));
  }

  /** Reads the maintained counts (a row per type and state), never the objects table. */
  async stats(): Promise<StoreStats> {
    return this.run(() => {
      const byType: Record<string, number> = {};
      const byState = new Map<number, number>();
      let objects = 0;
      for (const r of this.s.counts.all()) {
        setOwn(byType, r.type, (Object.hasOwn(byType, r.type) ? (byType[r.type] ?? 0) : 0) + r.n);
        byState.set(r.state, (byState.get(r.state) ?? 0) + r.n);
        objects += r.n;
      }
      const cursors: Record<string, string> = {};
      for (const r of this.s.allCursors.all())
        if (!r.name.startsWith(INTERNAL_CURSOR_PREFIX)) setOwn(cursors, r.name, r.value);
      const path = this.opened?.path;
      let bytesOnDisk = 0;
      for (const suffix of path === undefined ? [] : ['', '-wal']) {
        try {
          bytesOnDisk += statSync(path + suffix).size;
        } catch {
          /* no WAL right now */
        }
      }
      return {
        objects,
        byType,
        revoked: byState.get(STATE_REVOKED) ?? 0,
        expired: byState.get(STATE_EXPIRED) ?? 0,
        changeLogHead: this.seq,
        cursors,
        bytesOnDisk,
      };
    });
  }
}
