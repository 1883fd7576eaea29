import type Database from 'better-sqlite3';
import { StixgateError } from '../../core/errors.js';

/** The schema version this code writes. Each migration brings version N-1 to N. */
export const SCHEMA_VERSION = 1;

/**
 * Migrations, applied in order inside one transaction each (FAULTS P10: a kill -9 mid-migration
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
];

export function schemaVersion(db: Database.Database): number {
  const hasMeta = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get();
  if (!hasMeta) return 0;
  const row = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string } | undefined;
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
  for (let v = found + 1; v <= SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v - 1]);
      db.prepare(`INSERT INTO meta (key, value) VALUES ('schema_version', ?)
        ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(String(v));
    })();
  }
  return found;
}
