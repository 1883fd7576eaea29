import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorCode } from './core/guards.js';

/**
 * The running daemon's pid and listening address, written to `<data_dir>/daemon.json` once the
 * server listens and removed at shutdown. `stixgate reload` signals the pid and `stixgate health`
 * asks the address, whatever port the configuration, an environment override or `--port` chose.
 */
export interface DaemonFile {
  pid: number;
  url: string;
  config: string;
  started: string;
  /** The outcome of the last SIGHUP reload (seq counts reloads since start). */
  reload?: { seq: number; ok: boolean; message: string; at: string };
}

export const DAEMON_FILE = 'daemon.json';

export function writeDaemonFile(dataDir: string, info: DaemonFile): void {
  const path = join(dataDir, DAEMON_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info)}\n`, { mode: 0o644 });
  renameSync(tmp, path);
}

/** A daemon file as `readDaemonFile` accepts it: a positive integer pid and a url (the other keys are informational). */
function isDaemonFile(v: unknown): v is DaemonFile {
  return (
    typeof v === 'object' &&
    v !== null &&
    'pid' in v &&
    typeof v.pid === 'number' &&
    Number.isInteger(v.pid) &&
    v.pid > 0 &&
    'url' in v &&
    typeof v.url === 'string'
  );
}

/** The file's content, or undefined when no daemon wrote one (or it is unreadable). */
export function readDaemonFile(dataDir: string): DaemonFile | undefined {
  try {
    const v: unknown = JSON.parse(readFileSync(join(dataDir, DAEMON_FILE), 'utf8'));
    return isDaemonFile(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the file when it still names this process (a second daemon's file is left alone). */
export function removeDaemonFile(dataDir: string, pid = process.pid): void {
  if (readDaemonFile(dataDir)?.pid === pid) rmSync(join(dataDir, DAEMON_FILE), { force: true });
}

/** True when a process with this pid exists (signal 0 checks without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errorCode(e) === 'EPERM';
  }
}
