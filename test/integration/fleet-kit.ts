/**
 * Parts of the fleet test (fleet.itest.ts): a loopback feed that grows with each poll and can hold
 * one poll open (a lease holder killed mid-fetch), and daemon instances started with a small heap
 * and asked for lookups over HTTP.
 */
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDaemon, type DaemonProc } from '../helpers/daemon-proc.js';
import { must } from '../helpers/must.js';

/**
 * A text feed of `values`: its n-th request serves the first `n × step` of them (all from then
 * on), so each poll brings new indicators. `holdNext()` makes the next request send half its body
 * and stay open until `release()`; `maxActive` counts overlapping polls (never more than one when
 * the source's lease works).
 */
export class GrowingFeed {
  requests = 0;
  active = 0;
  maxActive = 0;
  private readonly server = createServer((_req, res) => this.answer(res));
  private hold?: { armed: boolean; res?: ServerResponse };

  constructor(
    readonly values: readonly string[],
    private readonly step: number,
  ) {}

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/feed.txt`;
  }

  /** Holds the next request half sent (`held` tells when it is). */
  holdNext(): void {
    this.hold = { armed: true };
  }

  /** Whether a request is held now. */
  get held(): boolean {
    return this.hold?.res !== undefined;
  }

  /** Ends the held request by dropping its connection (the poll fails; nothing after the half is sent). */
  release(): void {
    this.hold?.res?.destroy();
    this.hold = undefined;
  }

  private answer(res: ServerResponse): void {
    const n = ++this.requests;
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    res.on('close', () => this.active--);
    const body = `${this.values.slice(0, n * this.step).join('\n')}\n`;
    res.writeHead(200, { 'content-type': 'text/plain' });
    const hold = this.hold;
    if (hold?.armed) {
      hold.armed = false;
      hold.res = res;
      res.write(body.slice(0, body.lastIndexOf('\n', body.length >> 1) + 1));
      return;
    }
    res.end(body);
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }
}

/** A daemon instance of the fleet. */
export interface Member {
  name: string;
  proc: DaemonProc;
  address: string;
  pid: number;
}

/** Starts `stixgate run` with a heap of `heapMb` and resolves once it listens. */
export async function startMember(name: string, config: string, heapMb: number): Promise<Member> {
  const proc = startDaemon(['--config', config, '--port', '0'], {
    env: { NODE_OPTIONS: `--max-old-space-size=${heapMb}` },
  });
  const line = await proc.waitFor(/"address":"http:\/\/[^"]+"/);
  const address = must(/"address":"(http:\/\/[^"]+)"/.exec(line)?.[1], `${name}'s address`);
  return { name, proc, address, pid: must(proc.child.pid, `${name}'s pid`) };
}

/** Whether a member's process has ended. */
export const gone = (m: Member): boolean => m.proc.child.exitCode !== null || m.proc.child.signalCode !== null;

/** A running member's peak resident set (VmHWM of /proc/<pid>/status) in MB; NaN when unreadable. */
export function peakRssMb(m: Member): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${m.pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? Number.NaN : Math.round(Number(kb) / 1024);
  } catch {
    return Number.NaN;
  }
}

/** SIGKILL, resolved once the process is gone. */
export async function kill9(m: Member): Promise<void> {
  m.proc.child.kill('SIGKILL');
  await m.proc.exited;
}

/** A member's answers to a batch lookup of `values` (anonymous: what TLP:CLEAR readers see), in chunks. */
export async function lookupAll(m: Member, values: readonly string[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < values.length; i += 500) {
    const r = await fetch(`${m.address}/api/v1/lookup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ values: values.slice(i, i + 500) }),
    });
    if (r.status !== 200) throw new Error(`${m.name}: lookup answered ${r.status}: ${await r.text()}`);
    const body = (await r.json()) as { results: unknown[] };
    out.push(...body.results);
  }
  return out;
}

/** The pid in a lease holder id (`host:pid:random`, src/daemon.ts). */
export const holderPid = (holder: string): number => Number(holder.split(':')[1]);

/** The current holder of a lease in the store's meta index (undefined when nobody holds it). */
export async function leaseHolder(node: string, prefix: string, lease: string): Promise<number | undefined> {
  const r = await fetch(`${node}/${prefix}-meta/_doc/${encodeURIComponent(`lease:${lease}`)}`);
  if (r.status === 404) return undefined;
  const body = (await r.json()) as { found?: boolean; _source?: { holder?: string } };
  return body.found && body._source?.holder ? holderPid(body._source.holder) : undefined;
}
