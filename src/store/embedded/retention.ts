import type Database from 'better-sqlite3';
import { storedObject } from '../stored-object.js';
import { LEDGER_STATES, ledgerRecordKey, ledgerValueKey } from '../ledger.js';
import { purgeDue, RETENTION_CURSOR, type PurgeOptions, type PurgeResult } from '../retention.js';
import { keyHash, type KeyIndex } from './key-index.js';
import { decodeObservables, valueKeysOf } from './values.js';
import { STATE_REVOKED, type ObjectRow } from './rows.js';

/** What the embedded retention pass needs of the store; it runs inside the store's write transaction. */
export interface EmbeddedPurgeContext {
  db: Database.Database;
  keys: KeyIndex;
  /** The rowids of the objects still listing `value` (after this pass's removals). */
  rowidsOfValue(value: string): number[];
  /** One object of `type` left `state` (the per-(type, state) counts). */
  uncount(type: string, state: number): void;
  /** The unchanged-upsert cache forgets the id. */
  forget(id: string): void;
}

type EndedRow = ObjectRow;

const PRESENT = LEDGER_STATES.indexOf('present');

const statements = new WeakMap<Database.Database, ReturnType<typeof prepare>>();

function prepare(db: Database.Database) {
  return {
    // the partial index objects_ended (schema 6) holds only ended objects, in seq order
    ended: db.prepare<[number], EndedRow>(
      'SELECT rowid, id, type, state, obs, json, seq FROM objects WHERE state <> 0 AND seq <= ? ORDER BY seq',
    ),
    dropObject: db.prepare('DELETE FROM objects WHERE rowid = ?'),
    dropKeys: db.prepare('DELETE FROM object_keys WHERE obj = ?'),
    dropHistory: db.prepare('DELETE FROM score_history WHERE obj = ?'),
    dropLedger: db.prepare(`DELETE FROM ledger WHERE vkey = ? AND state <> ${PRESENT}`),
    getCursor: db.prepare<[string], string>('SELECT value FROM cursors WHERE name = ?').pluck(),
    setCursor: db.prepare(
      'INSERT INTO cursors (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value',
    ),
  };
}

/**
 * One retention pass (call inside a write transaction): deletes at most `o.limit` due ended objects
 * at or below `o.maxSeq`, with their keys and score history, records the highest position deleted in
 * RETENTION_CURSOR, then deletes the ledger rows (other than `present`) of the values no remaining
 * object lists. One transaction: a crash leaves all of it or none.
 */
export function purgeEnded(ctx: EmbeddedPurgeContext, o: PurgeOptions): PurgeResult {
  let s = statements.get(ctx.db);
  if (!s) {
    s = prepare(ctx.db);
    statements.set(ctx.db, s);
  }
  const result: PurgeResult = { expired: 0, revoked: 0, ledgerRows: 0, purgedThrough: 0 };
  if ((o.expiredBefore === undefined && o.revokedBefore === undefined) || o.limit < 1) return result;
  const due: EndedRow[] = [];
  for (const row of s.ended.iterate(o.maxSeq)) {
    if (purgeDue(storedObject(row.json), o)) due.push(row);
    if (due.length >= o.limit) break;
  }
  const values = new Map<string, Set<string>>();
  for (const row of due) {
    s.dropObject.run(row.rowid);
    s.dropKeys.run(row.rowid);
    s.dropHistory.run(row.rowid);
    ctx.keys.remove(ctx.keys.ids, keyHash(row.id), row.rowid);
    for (const k of valueKeysOf(row.obs)) ctx.keys.remove(ctx.keys.values, k, row.rowid);
    ctx.uncount(row.type, row.state);
    ctx.forget(row.id);
    if (row.state === STATE_REVOKED) result.revoked++;
    else result.expired++;
    result.purgedThrough = Math.max(result.purgedThrough, row.seq);
    for (const ob of decodeObservables(row.obs)) {
      let types = values.get(ob.value);
      if (!types) {
        types = new Set();
        values.set(ob.value, types);
      }
      types.add(ob.type);
    }
  }
  if (result.purgedThrough > Number(s.getCursor.get(RETENTION_CURSOR) ?? 0))
    s.setCursor.run(RETENTION_CURSOR, String(result.purgedThrough));
  for (const [value, types] of values) {
    if (ctx.rowidsOfValue(value).length > 0) continue;
    for (const t of types) result.ledgerRows += s.dropLedger.run(ledgerValueKey(ledgerRecordKey(t, value))).changes;
  }
  return result;
}
