import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from './corpus.js';
import { must } from './must.js';

export const CLI = join(PROJECT_ROOT, 'src', 'cli.ts');

/** What a CLI run printed and how it exited. */
export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `stixgate ARGS…` as a child process from the project root and collects its output. The
 * daemon address and key a developer may have exported are cleared unless `env` sets them.
 */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, STIXGATE_API_KEY: undefined, STIXGATE_URL: undefined, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Why the pid-namespace tests cannot run here, or undefined when `unshare --pid` works. */
export function pidNamespaceUnavailable(): string | undefined {
  const r = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', 'true'], { encoding: 'utf8' });
  if (r.error) return `unshare is not installed (${(r.error as NodeJS.ErrnoException).code})`;
  if (r.status !== 0) return `unshare --pid is not permitted here (exit ${r.status}: ${r.stderr.trim()})`;
  return undefined;
}

export interface DaemonProc {
  child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** Resolves when a log line matches, rejects when the process exits first. */
  waitFor(pattern: RegExp): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `stixgate run` as a real child process; with `pidNamespace` it runs as pid 1 of a new
 * pid namespace (`unshare --pid --fork --mount-proc --kill-child`: a SIGKILL of the unshare
 * process kills the daemon with it, as a container runtime kills its pid 1).
 */
export function startDaemon(
  args: string[],
  opts: { pidNamespace?: boolean; env?: NodeJS.ProcessEnv } = {},
): DaemonProc {
  const node = [process.execPath, '--import', 'tsx', CLI, 'run', ...args];
  const [cmd, ...rest] = opts.pidNamespace
    ? ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child', ...node]
    : node;
  const child = spawn(must(cmd, 'cmd'), rest, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, STIXGATE_LOG_LEVEL: 'info', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: { pattern: RegExp; resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      const line = out.split('\n').find((l) => w.pattern.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  must(child.stdout, 'child.stdout').on('data', (d: Buffer) => {
    out += d.toString();
    check();
  });
  must(child.stderr, 'child.stderr').on('data', (d: Buffer) => {
    out += d.toString();
    check();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      for (const w of waiters.splice(0))
        w.reject(new Error(`process exited (${code ?? signal}) before ${w.pattern}; output:\n${out}`));
      resolve({ code, signal });
    });
  });
  return {
    child,
    output: () => out,
    exited,
    waitFor: (pattern) =>
      new Promise<string>((resolve, reject) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          const line = out.split('\n').find((l) => pattern.test(l));
          if (line !== undefined) resolve(line);
          else reject(new Error(`process exited before ${pattern}; output:\n${out}`));
          return;
        }
        waiters.push({ pattern, resolve, reject });
        check();
      }),
  };
}
