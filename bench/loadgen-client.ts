/**
 * Runs bench/loadgen.ts in its own process (so it does not share the server's event loop) and
 * reads its one-line JSON result. `headers` go on every request (e.g. an API key).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { must } from '../test/helpers/must.js';

const here = fileURLToPath(new URL('.', import.meta.url));

export interface LoadgenResult {
  rps: number;
  p50: number;
  p99: number;
  p999: number;
  ok: number;
  errors: number;
  /** The generator's own CPU use (1 = one core) and how late it sent (p99 ms). */
  cpu: number;
  lateMs: number;
  /** Requests answered during the warm-up (not in ok). */
  warmup: number;
  /** CPU this process (the server) used per answered request over the whole run, in µs. */
  serverUs: number;
}

export function loadgen(args: string[], headers: Record<string, string> = {}): Promise<LoadgenResult> {
  const cpu0 = process.cpuUsage();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'loadgen.ts'), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, STIXGATE_LOADGEN_HEADERS: JSON.stringify(headers) },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`loadgen exit ${code}`));
      const r = JSON.parse(must(out.trim().split('\n').pop(), "out.trim().split('\\n').pop()")) as LoadgenResult;
      const cpu = process.cpuUsage(cpu0);
      r.serverUs = (cpu.user + cpu.system) / Math.max(1, r.ok + r.errors + r.warmup);
      resolve(r);
    });
  });
}

/** Where the time went, for the note column: generator CPU and lateness, server CPU per request. */
export function loadNote(r: LoadgenResult): string {
  return `errors ${r.errors}; generator cpu ${r.cpu} core, sends late p99 ${r.lateMs} ms; server ${Math.round(r.serverUs)} µs CPU/request`;
}
