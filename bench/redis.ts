/**
 * Redis as an in-run peer (IntelMQ's broker, and the floor for lookup latency): Debian's
 * redis-server unpacked without root into .cache/redis by scripts/peers.sh, started on 127.0.0.1
 * with persistence off; and a minimal RESP client (one command in flight per connection, as the
 * HTTP generator's pipelining 1) for the load generator and for reading IntelMQ's queues.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PEERS_CACHE = join(ROOT, '.cache', 'peers');
const UNPACKED = join(PEERS_CACHE, 'redis');
const LIBS = join(UNPACKED, 'usr', 'lib', 'x86_64-linux-gnu');

/** The redis-server binary and the environment it runs in, or why there is none. */
export function findRedis(): { bin: string; env: NodeJS.ProcessEnv; version: string } | { skip: string } {
  const bin = join(UNPACKED, 'usr', 'bin', 'redis-server');
  if (!existsSync(bin)) return { skip: `no redis-server under ${UNPACKED}: run bash scripts/peers.sh` };
  const env = { ...process.env, LD_LIBRARY_PATH: LIBS };
  const v = spawnSync(bin, ['--version'], { encoding: 'utf8', env });
  if (v.status !== 0)
    return { skip: `${bin} does not run here: ${(v.stderr || v.error?.message || '').trim().split('\n').pop()}` };
  return { bin, env, version: /v=(\S+)/.exec(v.stdout)?.[1] ?? 'unknown' };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface RedisServer {
  port: number;
  proc: ChildProcess;
  stop: () => Promise<void>;
}

/** Starts redis-server on 127.0.0.1 (no RDB/AOF, working directory `dir`) and waits until it answers PING. */
export async function startRedis(r: { bin: string; env: NodeJS.ProcessEnv }, dir: string): Promise<RedisServer> {
  const port = await freePort();
  const proc = spawn(
    r.bin,
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir],
    { env: r.env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  for (let i = 0; i < 200; i++) {
    try {
      const c = await RespClient.connect(port);
      await c.command(['PING']);
      c.close();
      break;
    } catch {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
      await new Promise((res) => setTimeout(res, 25));
    }
  }
  return {
    port,
    proc,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

type Reply = string | number | null | Reply[];

/** One RESP connection; commands are answered in order. */
export class RespClient {
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];

  private constructor(private readonly sock: Socket) {
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      for (;;) {
        const parsed = parseReply(this.buf, 0);
        if (parsed === undefined) break;
        this.buf = this.buf.subarray(parsed.end);
        const w = this.waiting.shift();
        if (parsed.error !== undefined) w?.reject(new Error(parsed.error));
        else w?.resolve(parsed.value);
      }
    });
    const fail = (e: Error) => {
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('redis connection closed')));
  }

  static connect(port: number): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const sock = connect(port, '127.0.0.1');
      sock.once('connect', () => resolve(new RespClient(sock)));
      sock.once('error', reject);
    });
  }

  command(args: readonly string[]): Promise<Reply> {
    let s = `*${args.length}\r\n`;
    for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.sock.write(s);
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

/** Parses one RESP2 reply at `at`; undefined when the buffer does not hold all of it yet. */
function parseReply(b: Buffer, at: number): { value: Reply; error?: string; end: number } | undefined {
  const eol = b.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const line = b.toString('latin1', at + 1, eol);
  switch (b[at]) {
    case 0x2b: // +
      return { value: line, end: eol + 2 };
    case 0x2d: // -
      return { value: null, error: line, end: eol + 2 };
    case 0x3a: // :
      return { value: Number(line), end: eol + 2 };
    case 0x24: {
      // $
      const len = Number(line);
      if (len < 0) return { value: null, end: eol + 2 };
      if (b.length < eol + 2 + len + 2) return undefined;
      return { value: b.toString('utf8', eol + 2, eol + 2 + len), end: eol + 2 + len + 2 };
    }
    case 0x2a: {
      // *
      const n = Number(line);
      const items: Reply[] = [];
      let end = eol + 2;
      for (let i = 0; i < n; i++) {
        const r = parseReply(b, end);
        if (r === undefined) return undefined;
        items.push(r.value);
        end = r.end;
      }
      return { value: n < 0 ? null : items, end };
    }
    default:
      throw new Error(`unexpected RESP reply ${JSON.stringify(line)}`);
  }
}

/**
 * A fixed set of connections, each with one command in flight; further commands wait for a free
 * connection in arrival order (as undici's Pool with pipelining 1 does for the HTTP generator).
 */
export class RespPool {
  private readonly idle: RespClient[] = [];
  private readonly queue: (() => void)[] = [];

  private constructor(clients: RespClient[]) {
    this.idle.push(...clients);
  }

  static async open(port: number, connections: number): Promise<RespPool> {
    return new RespPool(await Promise.all(Array.from({ length: connections }, () => RespClient.connect(port))));
  }

  async command(args: readonly string[]): Promise<Reply> {
    let c = this.idle.pop();
    while (c === undefined) {
      await new Promise<void>((r) => this.queue.push(r));
      c = this.idle.pop();
    }
    try {
      return await c.command(args);
    } finally {
      this.idle.push(c);
      this.queue.shift()?.();
    }
  }

  close(): void {
    for (const c of this.idle) c.close();
  }
}
