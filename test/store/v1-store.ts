import Database from 'better-sqlite3';
import { join } from 'node:path';

/**
 * A schema version 1 data directory as the previous release wrote it (before the object_keys
 * table of ADR 0006), for the migration tests. Returns the open database to fill.
 */
export function createV1Store(dataDir: string): Database.Database {
  const db = new Database(join(dataDir, 'stixgate.db'));
  db.exec(`
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE objects (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, modified TEXT, state INTEGER NOT NULL,
      valid_until INTEGER, seq INTEGER NOT NULL, obs TEXT, json TEXT NOT NULL);
    CREATE UNIQUE INDEX objects_seq ON objects(seq);
    CREATE INDEX objects_expiry ON objects(valid_until) WHERE state = 0 AND valid_until IS NOT NULL;
    CREATE TABLE object_values (value TEXT NOT NULL, obj INTEGER NOT NULL, PRIMARY KEY (value, obj)) WITHOUT ROWID;
    CREATE TABLE cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO meta VALUES ('schema_version', '1'), ('clean_shutdown', '1');
    INSERT INTO cursors VALUES ('feed', '42');`);
  return db;
}

/** The v1 row insert: (rowid, id, type, modified, seq, obs, json). */
export const V1_INSERT =
  'INSERT INTO objects (rowid, id, type, modified, state, valid_until, seq, obs, json) VALUES (?, ?, ?, ?, 0, NULL, ?, ?, ?)';
