import type Database from 'better-sqlite3';
import { StixgateError } from '../../core/errors.js';
import { keyHash } from './key-index.js';
import { encodeValueKeys, valueKeysOf } from './values.js';
import { at } from '../../core/indexed.js';

/** The schema version this code writes. Each migration brings version N-1 to N. */
export const SCHEMA_VERSION = 6;

/**
 * Migrations, applied in order inside one transaction each (a kill -9 mid-migration
 * rolls back, and re-running is idempotent because every statement is IF NOT EXISTS and the
 * version is written in the same transaction).
 */
const MIGRATIONS: readonly string[] = [
  // 1: the initial layout (docs/adr/0001-embedded-store-engine.md)
  `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS objects (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    modified TEXT,
    state INTEGER NOT NULL,        -- 0 active, 1 revoked, 2 expired
    valid_until INTEGER,           -- epoch ms
    seq INTEGER NOT NULL,          -- the change log: the last change of this object
    obs TEXT,                      -- observables, "type<TAB>value" lines, for the lookup index
    json TEXT NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS objects_seq ON objects(seq);
  CREATE INDEX IF NOT EXISTS objects_expiry ON objects(valid_until) WHERE state = 0 AND valid_until IS NOT NULL;
  CREATE TABLE IF NOT EXISTS object_values (
    value TEXT NOT NULL,
    obj INTEGER NOT NULL,
    PRIMARY KEY (value, obj)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
  `,
  // 2: no on-disk index on random keys (docs/adr/0006-key-index.md). The UNIQUE index on `id`
  // and the `object_values` B-tree go; ids and values are found through in-memory hash tables
  // loaded from `object_keys`, one append-only row per object holding its key hashes.
  `
  CREATE TABLE objects_v2 (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    modified TEXT,
    state INTEGER NOT NULL,
    valid_until INTEGER,
    seq INTEGER NOT NULL,
    obs TEXT,
    json TEXT NOT NULL
  );
  INSERT INTO objects_v2 (rowid, id, type, modified, state, valid_until, seq, obs, json)
    SELECT rowid, id, type, modified, state, valid_until, seq, obs, json FROM objects ORDER BY rowid;
  DROP TABLE objects;
  ALTER TABLE objects_v2 RENAME TO objects;
  CREATE UNIQUE INDEX objects_seq ON objects(seq);
  CREATE INDEX objects_expiry ON objects(valid_until) WHERE state = 0 AND valid_until IS NOT NULL;
  DROP TABLE object_values;
  CREATE TABLE object_keys (
    obj INTEGER PRIMARY KEY,       -- objects.rowid
    id_key INTEGER NOT NULL,       -- keyHash(id)
    value_keys                     -- keyHash of each distinct value: NULL, one INTEGER, or u32 LE BLOB
  );
  INSERT INTO object_keys (obj, id_key, value_keys)
    SELECT rowid, stixgate_key(id), stixgate_value_keys(obs) FROM objects ORDER BY rowid;
  `,
  // 3: object counts per (type, state), maintained by every write in its own transaction, so that
  // the store statistics (GET /metrics) read a few rows instead of counting the whole table
  `
  CREATE TABLE IF NOT EXISTS counts (
    type TEXT NOT NULL,
    state INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (type, state)
  ) WITHOUT ROWID;
  DELETE FROM counts;
  INSERT INTO counts (type, state, n) SELECT type, state, count(*) FROM objects GROUP BY type, state;
  `,
  // 4: the delivery ledger (docs/adr/0019-delivery-ledger.md): one row per (value, sink) of small
  // integers, written in the transaction that commits the sink's cursor; strings are interned
  `
  CREATE TABLE IF NOT EXISTS ledger_strings (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
  CREATE TABLE IF NOT EXISTS ledger (
    vkey INTEGER NOT NULL,         -- first 8 bytes of the record key (SHA-1 of "type:value"), signed
    sink INTEGER NOT NULL,         -- ledger_strings id of the sink id
    state INTEGER NOT NULL,        -- index in LEDGER_STATES
    reason INTEGER NOT NULL,       -- index in LEDGER_REASONS
    since INTEGER NOT NULL,        -- epoch seconds the value entered this state and reason
    seq INTEGER NOT NULL,          -- change-log sequence of the state
    score INTEGER,
    threshold INTEGER NOT NULL,
    sources INTEGER NOT NULL,      -- ledger_strings id of the contributions ("source=tlp,…")
    detail INTEGER,                -- ledger_strings id of the filter, list entry or vendor message
    PRIMARY KEY (vkey, sink)
  ) WITHOUT ROWID;
  `,
  // 5: the score history (docs/adr/0026-score-history.md): one row of small integers per score
  // change, the newest SCORE_HISTORY_CAP per object; objects stored before it start with none
  `
  CREATE TABLE IF NOT EXISTS score_history (
    obj INTEGER NOT NULL,          -- objects.rowid
    seq INTEGER NOT NULL,          -- the change-log sequence of the write that changed the score
    at INTEGER NOT NULL,           -- epoch seconds
    score INTEGER NOT NULL,
    previous INTEGER NOT NULL,
    reason INTEGER NOT NULL,       -- index in SCORE_REASONS
    sources INTEGER NOT NULL,      -- ledger_strings id of the changed contributions (JSON array)
    contributors INTEGER NOT NULL, -- ledger_strings id of every contribution behind the score
    PRIMARY KEY (obj, seq)
  ) WITHOUT ROWID;
  `,
  // 6: retention (docs/adr/0029-index-lifecycle.md) reads the ended (revoked, expired) objects in
  // change-log order without scanning the active ones
  `
  CREATE INDEX IF NOT EXISTS objects_ended ON objects(seq) WHERE state <> 0;
  `,
];

/** The SQL functions the migrations use (the key hashes are computed as the store computes them). */
function registerFunctions(db: Database.Database): void {
  // a JS number returned to SQLite is a REAL; BigInt makes it the INTEGER the store itself binds
  const integer = (v: number | Buffer | null) => (typeof v === 'number' ? BigInt(v) : v);
  db.function('stixgate_key', { deterministic: true }, (text: unknown) => integer(keyHash(String(text))));
  db.function('stixgate_value_keys', { deterministic: true }, (obs: unknown) =>
    integer(encodeValueKeys(valueKeysOf(typeof obs === 'string' ? obs : null))),
  );
}

export function schemaVersion(db: Database.Database): number {
  const hasMeta = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get();
  if (!hasMeta) return 0;
  const row = db.prepare<[], { value: string }>(`SELECT value FROM meta WHERE key = 'schema_version'`).get();
  return row ? Number(row.value) : 0;
}

/** Brings the database to SCHEMA_VERSION. Returns the version found before migrating. */
export function migrate(db: Database.Database, path: string): number {
  const found = schemaVersion(db);
  if (found > SCHEMA_VERSION) {
    throw new StixgateError(
      'STIXGATE_ERR_STORE_CORRUPT',
      `store ${path} has schema version ${found}, newer than this stixgate supports (${SCHEMA_VERSION})`,
      { location: { path }, reason: 'schema_too_new' },
    );
  }
  if (found < SCHEMA_VERSION) registerFunctions(db);
  for (let v = found + 1; v <= SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(at(MIGRATIONS, v - 1)); // v <= SCHEMA_VERSION, the number of migrations
      db.prepare(`INSERT INTO meta (key, value) VALUES ('schema_version', ?)
        ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(String(v));
    })();
  }
  return found;
}
