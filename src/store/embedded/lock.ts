import { closeSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StixgateError } from '../../core/errors.js';

export const LOCK_FILE = 'LOCK';

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isNaN(n) ? undefined : n;
  } catch {
    return undefined;
  }
}

function ioError(path: string, e: unknown): StixgateError {
  const code = (e as NodeJS.ErrnoException).code ?? 'unknown';
  return new StixgateError('STIXGATE_ERR_STORE_IO', `cannot write the store lock ${path}: ${code}`, {
    location: { path }, reason: 'io', cause: e,
  });
}

/**
 * Takes the data directory's lock file (FAULTS D7): a file named LOCK holding the owner's pid,
 * created atomically (a temp file hard-linked into place, so it is never seen half-written).
 * A lock whose pid is alive refuses the caller; a stale one (pid dead) is taken over.
 * Returns the release function.
 */
export function acquireDirLock(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  const tmp = join(dataDir, `${LOCK_FILE}.${process.pid}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'w', 0o644);
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
  } catch (e) {
    throw ioError(tmp, e);
  }
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(tmp, path);
        if (readHolder(path) === process.pid) return () => releaseIfOurs(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(path, e);
      }
      const holder = readHolder(path);
      if (holder !== undefined && pidAlive(holder)) {
        throw new StixgateError(
          'STIXGATE_ERR_STORE_LOCKED',
          `data directory ${dataDir} is in use by process ${holder} (lock file ${path})`,
          { location: { path: dataDir }, reason: 'locked' },
        );
      }
      try {
        unlinkSync(path); // stale: its holder is gone
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(path, e);
      }
    }
    throw new StixgateError('STIXGATE_ERR_STORE_LOCKED', `could not take the lock ${path} (contended)`, {
      location: { path: dataDir }, reason: 'locked',
    });
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
  }
}

function releaseIfOurs(path: string): void {
  if (readHolder(path) !== process.pid) return;
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
