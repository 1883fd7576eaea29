import Database from 'better-sqlite3';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StixgateError } from '../../core/errors.js';
import { errorCode, isRecord } from '../../core/guards.js';

/** The lock: an SQLite file whose exclusive (fcntl) lock is held by the writing process. */
export const LOCK_FILE = 'stixgate.lock';
/** Who holds the lock (pid, host, start time), for the refusal message only; never decides anything. */
export const LOCK_OWNER_FILE = 'stixgate.lock.owner';
/** The pid file of earlier versions, removed once the new lock is held. */
const LEGACY_LOCK_FILE = 'LOCK';

function sqliteCode(e: unknown): string {
  return errorCode(e) ?? '';
}

function ioError(path: string, e: unknown): StixgateError {
  const code = sqliteCode(e) || 'unknown';
  const detail =
    code === 'SQLITE_FULL' || code === 'ENOSPC'
      ? 'disk full'
      : code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')
        ? `${code}: the lock file is damaged; delete it when no stixgate process uses this directory`
        : code;
  return new StixgateError('STIXGATE_ERR_STORE_IO', `cannot take the store lock ${path}: ${detail}`, {
    location: { path },
    reason: 'io',
    cause: e,
  });
}

function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    /* left in place: it decides nothing */
  }
}

function ownerText(dataDir: string): string {
  try {
    const o: unknown = JSON.parse(readFileSync(join(dataDir, LOCK_OWNER_FILE), 'utf8'));
    if (isRecord(o) && typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.since === 'string') {
      return ` (pid ${o.pid} on host ${JSON.stringify(o.host)} since ${o.since})`;
    }
  } catch {
    /* no owner note: the holder is still starting, or its disk is full */
  }
  return '';
}

/**
 * Takes the data directory's lock, so a second daemon on the same directory is refused. The lock is the operating system's: an exclusive
 * fcntl lock on `stixgate.lock`, taken through SQLite (`locking_mode = EXCLUSIVE` and one write
 * transaction, so the lock is kept until the connection closes). The kernel drops it when its
 * holder dies in any way (kill -9, OOM, power loss), so a restart never meets a stale lock, and
 * a reused process id (a daemon that is pid 1 in every container start) confuses nothing.
 * The file is never removed: removing it could let two processes lock two different files.
 * Nothing else in this process may open and close `stixgate.lock` (closing any descriptor of a
 * file drops the process's fcntl locks on it); SQLite shares its own descriptors safely.
 * Returns the release function.
 */
export function acquireDirLock(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: 0 });
  } catch (e) {
    throw ioError(path, e);
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = MEMORY'); // no journal file beside the lock
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT'); // in EXCLUSIVE locking mode the lock outlives the transaction
  } catch (e) {
    db.close();
    if (sqliteCode(e) === 'SQLITE_BUSY') {
      throw new StixgateError(
        'STIXGATE_ERR_STORE_LOCKED',
        `data directory ${dataDir} is in use by another process${ownerText(dataDir)}; lock file ${path}`,
        { location: { path: dataDir }, reason: 'locked' },
      );
    }
    throw ioError(path, e);
  }
  const owner = join(dataDir, LOCK_OWNER_FILE);
  try {
    writeFileSync(
      owner,
      `${JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() })}\n`,
      { mode: 0o644 },
    );
  } catch {
    removeQuietly(owner); // a note that cannot be written is no note (a full disk fails the store's own writes next)
  }
  removeQuietly(join(dataDir, LEGACY_LOCK_FILE));
  let released = false;
  return () => {
    if (released) return;
    released = true;
    removeQuietly(owner); // before the lock goes, so a next holder's note is never removed
    db.close();
  };
}
