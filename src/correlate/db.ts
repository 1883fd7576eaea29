import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { StixgateError, errorMessage } from '../core/errors.js';
import { errorCode } from '../core/guards.js';

export const CORRELATION_DB_FILE = 'correlation.db';
export const CORRELATION_SCHEMA_VERSION = 1;

/**
 * The correlation index (its own SQLite file beside the store, rebuilt from the change log when
 * absent). Tables:
 *
 *   meta     k → v: schema version, the change-log cursor (`seq`), the store head it was built against
 *   dict     small strings (object types, link kinds) ↔ integers
 *   node     one row per STIX id seen or referenced: type, state (0 referenced only, 1 active,
 *            2 revoked/expired), TLP rank, and the name of named SDOs (for summaries)
 *   val      one row per canonical value key: holder count, derived-link count (fan), capped flag
 *   hold     value ↔ active node holding it (same-value links are read from here)
 *   ip4/ip6  single addresses by number/bytes (range scans when a CIDR is listed)
 *   cidrlen  the prefix lengths of listed CIDRs per family (an address probes only these)
 *   host     URL values by reversed host (prefix scans when a domain is listed)
 *   vlink    derived links between values: inside-cidr, on-domain, resolves-to
 *   edge     explicit links between nodes: relationship SROs, object_refs, sighting refs,
 *            resolves_to_refs; `owner` is the object whose content states the link
 *   counter  capped-link counts by derivation (persisted, so metrics survive restarts)
 */
const DDL = `
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dict(k INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS node(n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 0, tlp INTEGER NOT NULL DEFAULT 0, name TEXT);
CREATE TABLE IF NOT EXISTS val(v INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, holders INTEGER NOT NULL DEFAULT 0, fan INTEGER NOT NULL DEFAULT 0, capped INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS hold(v INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(v, n)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS hold_n ON hold(n);
CREATE TABLE IF NOT EXISTS ip4(addr INTEGER PRIMARY KEY, v INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ip6(addr BLOB PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cidrlen(family INTEGER NOT NULL, len INTEGER NOT NULL, PRIMARY KEY(family, len)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS host(rh TEXT NOT NULL, v INTEGER NOT NULL, PRIMARY KEY(rh, v)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS vlink(a INTEGER NOT NULL, kind INTEGER NOT NULL, b INTEGER NOT NULL, owner INTEGER NOT NULL, PRIMARY KEY(a, kind, b, owner)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS vlink_b ON vlink(b);
CREATE INDEX IF NOT EXISTS vlink_owner ON vlink(owner) WHERE owner <> 0;
CREATE TABLE IF NOT EXISTS edge(a INTEGER NOT NULL, kind INTEGER NOT NULL, b INTEGER NOT NULL, owner INTEGER NOT NULL, PRIMARY KEY(a, kind, b, owner)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS edge_b ON edge(b);
CREATE TABLE IF NOT EXISTS counter(name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
`;

const TABLES = ['meta', 'dict', 'node', 'val', 'hold', 'ip4', 'ip6', 'cidrlen', 'host', 'vlink', 'edge', 'counter'];

function ioError(path: string, e: unknown): StixgateError {
  const code = errorCode(e) ?? '';
  const corrupt = code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB';
  return new StixgateError(
    corrupt ? 'STIXGATE_ERR_STORE_CORRUPT' : 'STIXGATE_ERR_STORE_IO',
    corrupt
      ? `correlation index ${path} is damaged (${errorMessage(e)}); delete it and it is rebuilt from the change log`
      : `correlation index cannot use ${path}: ${code} ${errorMessage(e)}`,
    { location: { path }, reason: corrupt ? 'corrupt' : 'io', cause: e },
  );
}

/** Opens (creating when absent) `correlation.db` in `dir`, or an in-memory index when `dir` is `:memory:`. */
export function openCorrelationDb(dir: string): { db: Database.Database; path: string } {
  const path = dir === ':memory:' ? ':memory:' : join(dir, CORRELATION_DB_FILE);
  try {
    if (dir !== ':memory:') mkdirSync(dir, { recursive: true, mode: 0o750 });
    const db = new Database(path);
    if (path !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('cache_size = -32768'); // 32 MiB
    db.pragma('temp_store = MEMORY');
    db.pragma('busy_timeout = 5000');
    const version = Number(db.pragma('user_version', { simple: true }));
    if (version !== 0 && version !== CORRELATION_SCHEMA_VERSION) {
      // the index is derived data: an unknown layout is dropped and rebuilt from the change log
      for (const t of TABLES) db.exec(`DROP TABLE IF EXISTS ${t}`);
    }
    db.exec(DDL);
    db.pragma(`user_version = ${CORRELATION_SCHEMA_VERSION}`);
    return { db, path };
  } catch (e) {
    if (e instanceof StixgateError) throw e;
    throw ioError(path, e);
  }
}

/** Empties every table (the index is rebuilt from seq 0). */
export function resetCorrelationDb(db: Database.Database): void {
  db.transaction(() => {
    for (const t of TABLES) db.exec(`DELETE FROM ${t}`);
  })();
}

export { ioError as correlationIoError };
