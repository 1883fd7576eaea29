import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StixgateError } from '../../core/errors.js';
import { errorCode, isRecord } from '../../core/guards.js';
import { acquireDirLock } from './lock.js';
import { SCHEMA_VERSION, migrate, schemaVersion } from './schema.js';

export const DB_FILE = 'stixgate.db';
/** Page size of new databases (an existing file keeps its own). */
export const PAGE_SIZE = 16384;

export interface OpenOptions {
  dataDir: string;
  sync: 'normal' | 'full';
  readonly: boolean;
  /** When to run PRAGMA quick_check at open: after an unclean shutdown (default), always, never. */
  integrityCheck: 'after-crash' | 'always' | 'never';
  /** SQLite page cache, MiB (default 256): the id and value indexes of a large store must fit, or ingest slows as the store grows. */
  cacheMb?: number;
  /** better-sqlite3's `verbose`: called with the SQL of every statement run. */
  onStatement?: (sql: string) => void;
}

export interface OpenedDatabase {
  db: Database.Database;
  path: string;
  release: () => void;
}

const CORRUPT_CODES = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_IOERR_SHORT_READ', 'SQLITE_CORRUPT_INDEX']);

function sqliteCode(e: unknown): string {
  return errorCode(e) ?? '';
}

function corrupt(path: string, detail: string, cause?: unknown): StixgateError {
  return new StixgateError(
    'STIXGATE_ERR_STORE_CORRUPT',
    `store file ${path} is damaged (${detail}); restore it from a backup or move it aside to rebuild from the feeds`,
    { location: { path }, reason: 'corrupt', cause },
  );
}

function io(path: string, detail: string, cause?: unknown): StixgateError {
  return new StixgateError('STIXGATE_ERR_STORE_IO', `store cannot use ${path}: ${detail}`, {
    location: { path },
    reason: 'io',
    cause,
  });
}

/** Maps an engine error to a store error with a clear message (never a bare stack trace). */
export function classify(path: string, e: unknown): StixgateError {
  if (e instanceof StixgateError) return e;
  const code = sqliteCode(e);
  const msg = e instanceof Error ? e.message : String(e);
  if (CORRUPT_CODES.has(code) || code.startsWith('SQLITE_CORRUPT')) return corrupt(path, msg, e);
  if (code === 'SQLITE_FULL') return io(path, 'disk full', e);
  if (
    code.startsWith('SQLITE_CANTOPEN') ||
    code.startsWith('SQLITE_READONLY') ||
    code.startsWith('SQLITE_IOERR') ||
    code.startsWith('SQLITE_PERM') ||
    code === 'EACCES' ||
    code === 'EROFS'
  ) {
    return io(path, `${code} ${msg}`, e);
  }
  return new StixgateError('STIXGATE_ERR_STORE_UNAVAILABLE', `store ${path}: ${msg}`, {
    location: { path },
    reason: 'unavailable',
    cause: e,
  });
}

function prepareDir(dataDir: string, readonly: boolean): void {
  try {
    if (existsSync(dataDir) && !statSync(dataDir).isDirectory()) throw io(dataDir, 'not a directory');
    if (!readonly) mkdirSync(dataDir, { recursive: true, mode: 0o750 });
    accessSync(dataDir, readonly ? constants.R_OK | constants.X_OK : constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (e) {
    if (e instanceof StixgateError) throw e;
    const code = errorCode(e) ?? 'unknown';
    throw io(dataDir, `data directory not usable (${code}${readonly ? '' : '; it must be readable and writable'})`, e);
  }
}

function pragmas(db: Database.Database, opts: OpenOptions): void {
  if (!opts.readonly) db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma(`cache_size = -${Math.round((opts.cacheMb ?? 256) * 1024)}`); // KiB
  db.pragma('temp_store = MEMORY');
  db.pragma('busy_timeout = 5000');
  db.pragma('wal_autocheckpoint = 4000');
}

/** Creates a new database beside the final name and renames it in, so a half-made file never shows. */
function createFresh(dataDir: string, path: string, opts: OpenOptions): void {
  const tmp = join(dataDir, `${DB_FILE}.new`);
  for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
  const db = new Database(tmp);
  try {
    // 16 KiB pages (set before the first write; fixed for the file's life): ~1 KB objects and
    // random-order id/value keys make 4 KiB B-trees deep and busy; measured ~1.4× faster inserts
    db.pragma(`page_size = ${PAGE_SIZE}`);
    pragmas(db, opts);
    migrate(db, tmp);
    db.prepare(`INSERT INTO meta (key, value) VALUES ('clean_shutdown', '1')`).run();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
  renameSync(tmp, path);
}

/**
 * Opens the data directory's database: directory checks (exists, writable, ours), the lock (one
 * process per directory), corruption checks, schema migration. Throws StixgateError with the
 * path on every failure.
 */
export function openDatabase(opts: OpenOptions): OpenedDatabase {
  const { dataDir, onStatement } = opts;
  prepareDir(dataDir, opts.readonly);
  const release = opts.readonly ? () => {} : acquireDirLock(dataDir);
  const path = join(dataDir, DB_FILE);
  let db: Database.Database | undefined;
  try {
    if (!existsSync(path)) {
      if (opts.readonly) throw io(path, 'no store in this data directory');
      createFresh(dataDir, path, opts);
    } else if (statSync(path).size === 0) {
      throw corrupt(path, 'the file is empty');
    }
    db = new Database(path, {
      readonly: opts.readonly,
      fileMustExist: true,
      ...(onStatement ? { verbose: (sql?: unknown) => onStatement(String(sql)) } : {}),
    });
    pragmas(db, opts);
    if (!opts.readonly) migrate(db, path);
    else {
      const v = schemaVersion(db);
      if (v !== SCHEMA_VERSION) {
        throw new StixgateError(
          'STIXGATE_ERR_STORE_UNAVAILABLE',
          `store ${path} has schema version ${v}; this stixgate reads version ${SCHEMA_VERSION} (open it once read-write to migrate it)`,
          { location: { path }, reason: 'schema_version' },
        );
      }
    }
    const clean = db.prepare<[], { value: string }>(`SELECT value FROM meta WHERE key = 'clean_shutdown'`).get();
    const check = opts.integrityCheck === 'always' || (opts.integrityCheck === 'after-crash' && clean?.value !== '1');
    if (check) {
      const rows: unknown = db.pragma('quick_check');
      const results = Array.isArray(rows) ? rows.map((r) => String(isRecord(r) ? r.quick_check : r)) : [];
      if (results.length !== 1 || results[0] !== 'ok') {
        throw corrupt(path, `quick_check: ${results.slice(0, 3).join('; ')}`);
      }
    }
    if (!opts.readonly) {
      db.prepare(`INSERT INTO meta (key, value) VALUES ('clean_shutdown', '0')
        ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run();
    }
    return { db, path, release };
  } catch (e) {
    try {
      db?.close();
    } catch {
      /* closing a broken handle */
    }
    release();
    throw classify(path, e);
  }
}

/** Marks a clean shutdown, checkpoints the WAL and closes. */
export function closeDatabase(opened: OpenedDatabase, readonly: boolean): void {
  try {
    if (!readonly) {
      opened.db.prepare(`UPDATE meta SET value = '1' WHERE key = 'clean_shutdown'`).run();
      opened.db.pragma('wal_checkpoint(TRUNCATE)');
    }
  } finally {
    opened.db.close();
    opened.release();
  }
}
