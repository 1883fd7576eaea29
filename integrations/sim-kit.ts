import { at } from '../src/core/indexed.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenLoopback } from './loopback-server.js';

/**
 * Plumbing shared by the vendor simulators: the fault queue, the bounded request log, request
 * bodies read up to a limit, and the `/__sim/` inspection endpoints. Each simulator keeps its own
 * fault fields, log entries and response shapes; only the mechanics live here.
 */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Faults waiting to be applied, oldest first. A fault applies to `times` requests (default 1) and
 * leaves the queue when they are used up.
 */
export class FaultQueue<F extends { times?: number }> {
  /** The pending faults (the array is kept: callers may hold it). */
  readonly pending: F[] = [];

  /** `defaults` are filled in for fields a fault leaves out (after `times: 1`). */
  constructor(private readonly defaults: Partial<F> = {}) {}

  /** Queues `f` behind the pending faults, or in front of them with `first` (it pre-empts standing faults). */
  inject(f: F, first = false): void {
    const fault = { times: 1, ...this.defaults, ...f };
    if (first) this.pending.unshift(fault);
    else this.pending.push(fault);
  }

  clear(): void {
    this.pending.length = 0;
  }

  get size(): number {
    return this.pending.length;
  }

  /** The first fault that `matches` (default: the first), with one use taken off it. */
  take(matches?: (f: F) => boolean): F | undefined {
    const i = matches ? this.pending.findIndex(matches) : this.pending.length > 0 ? 0 : -1;
    if (i < 0) return undefined;
    const f = at(this.pending, i);
    f.times = (f.times ?? 1) - 1;
    if (f.times <= 0) this.pending.splice(i, 1);
    return f;
  }
}

/** The fault fields the sink simulators (Splunk, QRadar, XSOAR) share; each adds its own `partialAccept`. */
export interface HttpFault<T extends string> {
  /** Which requests the fault applies to (default any, never /__sim/). */
  target?: T;
  /** How many requests it applies to (default 1). */
  times?: number;
  /** Answer with this status (the vendor's error body) instead of handling the request. */
  status?: number;
  /** Retry-After header (seconds) with `status`. */
  retryAfter?: number;
  /** Wait before answering. */
  delayMs?: number;
  /** Handle the request (state changes!) and then drop the connection without answering. */
  dropAfterHandling?: boolean;
}

/**
 * A simulator served on 127.0.0.1 (ephemeral port) with a fault queue: `start`, `close`,
 * `inject` and `clearFaults`. Subclasses answer requests in `handle`.
 */
export abstract class LoopbackSimulator<F extends { times?: number }> {
  protected readonly faultQueue: FaultQueue<F>;
  private server?: Server;

  constructor(faultDefaults: Partial<F> = {}) {
    this.faultQueue = new FaultQueue<F>(faultDefaults);
  }

  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;

  async start(port = 0): Promise<{ base: string }> {
    this.server = createServer((req, res) => void this.handle(req, res));
    return { base: await listenLoopback(this.server, port) };
  }

  async close(): Promise<void> {
    await closeServer(this.server);
    this.server = undefined;
  }

  /** Queues a fault for the next matching request(s). */
  inject(f: F, opts: { first?: boolean } = {}): void {
    this.faultQueue.inject(f, opts.first);
  }

  clearFaults(): void {
    this.faultQueue.clear();
  }
}

/** Appends `entry` to `log`, dropping the oldest entries beyond `max`. */
export function logBounded<T>(log: T[], entry: T, max: number): void {
  log.push(entry);
  if (log.length > max) log.splice(0, log.length - max);
}

/**
 * Reads a request body, keeping at most `max` bytes; `size` is the full length, so a caller can
 * answer 413 when `size > max`.
 */
export async function readBody(req: IncomingMessage, max: number): Promise<{ raw: Buffer; size: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size <= max) chunks.push(c as Buffer);
  }
  return { raw: Buffer.concat(chunks), size };
}

/** A simulator's answer to a `/__sim/` request, before it is put in the simulator's response shape. */
export interface SimReply {
  status: number;
  value: unknown;
}

export interface SimControl {
  /** GET /__sim/requests. */
  requests: readonly unknown[];
  /** POST /__sim/reset-faults. */
  clearFaults(): void;
  /** GET /__sim/state, when the simulator has one. */
  state?: () => unknown;
  /** GET /__sim/quota, when the simulator has one. */
  quota?: () => unknown;
  /** POST /__sim/faults with the raw body, when the simulator takes faults over HTTP. */
  inject?: (body: string) => SimReply;
  /** The 404 body for an unknown endpoint (default `{ error: 'unknown simulator endpoint' }`). */
  notFound?: unknown;
}

/** Dispatches the `/__sim/` inspection and fault endpoints every simulator serves without auth. */
export function simControl(method: string, path: string, body: string, c: SimControl): SimReply {
  if (method === 'GET' && path === '/__sim/state' && c.state) return { status: 200, value: c.state() };
  if (method === 'GET' && path === '/__sim/requests') return { status: 200, value: c.requests };
  if (method === 'GET' && path === '/__sim/quota' && c.quota) return { status: 200, value: c.quota() };
  if (method === 'POST' && path === '/__sim/faults' && c.inject) return c.inject(body);
  if (method === 'POST' && path === '/__sim/reset-faults') {
    c.clearFaults();
    return { status: 200, value: { ok: true } };
  }
  return { status: 404, value: c.notFound ?? { error: 'unknown simulator endpoint' } };
}

/** A loopback server whose handler gets the whole request body as text (small test simulators). */
export async function serveWithBody(
  handle: (req: IncomingMessage, body: string, res: ServerResponse) => void,
): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  return { server, base: await listenLoopback(server) };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export type SimRecord = Record<string, unknown>;

export interface SimFault {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Reset the connection after a partial body instead of answering. */
  reset?: boolean;
}

export interface SimRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}
