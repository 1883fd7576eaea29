import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OpenSearchStore, type OpenSearchStoreOptions } from '../../src/store/opensearch/index.js';
import { must } from '../helpers/must.js';

/** The node started by scripts/opensearch.sh (scripts/integration.sh exports it). */
export const OPENSEARCH_URL = process.env.STIXGATE_OPENSEARCH_URL;
export const SKIP_REASON = OPENSEARCH_URL
  ? false
  : 'STIXGATE_OPENSEARCH_URL is not set: run `eval "$(bash scripts/opensearch.sh start)"` or scripts/integration.sh';

const RUN = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
let counter = 0;

/** A unique index prefix per store in this run. */
export function uniquePrefix(tag = 'it'): string {
  return `stixgate-${tag}-${RUN}-${++counter}`;
}

export function storeOptions(overrides: Partial<OpenSearchStoreOptions> = {}): OpenSearchStoreOptions {
  return {
    node: OPENSEARCH_URL ?? 'http://127.0.0.1:1',
    auth: undefined as never,
    index_prefix: uniquePrefix(),
    tls: { verify: true } as OpenSearchStoreOptions['tls'],
    seen_granularity_secs: 3600,
    max_batch_docs: 1000,
    max_batch_bytes: 5 * 1024 * 1024,
    request_timeout_secs: 30,
    sequence_ttl_secs: 120,
    refresh_interval: '1s',
    number_of_shards: 1,
    number_of_replicas: 0,
    retry: { max_attempts: 3, base_delay_ms: 50, max_delay_ms: 500 },
    // changes are readable as soon as they are acknowledged; the lag mode has its own tests
    refreshBeforeChanges: true,
    ...overrides,
  };
}

/**
 * The highest change-log position written to `index`, read from the node directly (after a
 * refresh): what a follower must reach to have seen every change the writers made.
 */
export async function highestSeq(index: string): Promise<number> {
  const base = must(OPENSEARCH_URL, 'STIXGATE_OPENSEARCH_URL');
  await fetch(`${base}/${index}/_refresh`, { method: 'POST' });
  const r = await fetch(`${base}/${index}/_search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ size: 1, sort: [{ seq: 'desc' }], _source: ['seq'] }),
  });
  const body = (await r.json()) as { hits?: { hits?: { _source?: { seq?: number } }[] } };
  return body.hits?.hits?.[0]?._source?.seq ?? 0;
}

/** Deletes the indices of the store under `prefix` (one a daemon created), for a test's cleanup. */
export async function dropStore(prefix: string): Promise<void> {
  const s = new OpenSearchStore(storeOptions({ index_prefix: prefix }));
  await s.open();
  await s.destroy();
  await s.close();
}

/** Opens a store on fresh indices; cleanup deletes them. */
export async function freshStore(
  overrides: Partial<OpenSearchStoreOptions> = {},
): Promise<{ store: OpenSearchStore; cleanup: () => Promise<void> }> {
  const store = new OpenSearchStore(storeOptions(overrides));
  await store.open();
  return {
    store,
    cleanup: async () => {
      await store.destroy();
      await store.close();
    },
  };
}

/**
 * A loopback HTTP proxy in front of the real node, for fault injection: it can be stopped and
 * restarted on the same port (cluster unreachable), and it can answer chosen bulk items with
 * 429 or 503 without forwarding them (a partial bulk failure as OpenSearch reports it).
 */
export class FaultProxy {
  private server?: Server;
  port = 0;
  /** Per document id: how many more times its bulk item is answered with `status`. */
  readonly failItems = new Map<string, { times: number; status: number }>();
  bulkRequests = 0;
  /** Every `_search` forwarded: its path, request body and the number of hits answered. */
  readonly searches: { path: string; body: string; hits: number }[] = [];
  /** Runs (once) before the next bulk request is forwarded: to act while a writer is mid-bulk. */
  beforeBulk?: () => Promise<void>;
  private atBulk?: { n: number; hook: () => Promise<void> };
  private withText?: { text: string; hook: (body: string) => Promise<void> };

  /** `target`: the node to forward to (default STIXGATE_OPENSEARCH_URL). */
  constructor(private readonly target = OPENSEARCH_URL) {}

  /** Runs `hook` (once) before the `n`th bulk request (counting from 1) is forwarded. */
  beforeBulkAt(n: number, hook: () => Promise<void>): void {
    this.atBulk = { n, hook };
  }

  /** Runs `hook` (once, given the body) before the first bulk request whose body contains `text` is forwarded. */
  beforeBulkWith(text: string, hook: (body: string) => Promise<void>): void {
    this.withText = { text, hook };
  }

  async start(): Promise<string> {
    const target = new URL(must(this.target, 'OPENSEARCH_URL'));
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.handle(req, res, Buffer.concat(chunks), target));
    });
    await new Promise<void>((resolve) => must(this.server, 'this.server').listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return `http://127.0.0.1:${this.port}`;
  }

  private async handle(
    req: IncomingMessage,
    res: import('node:http').ServerResponse,
    received: Buffer,
    target: URL,
  ): Promise<void> {
    let body = received;
    const injected: { pos: number; id: string; status: number; op: string }[] = [];
    const isBulk =
      req.method === 'POST' && must((req.url ?? '').split('?')[0], "(req.url ?? '').split('?')[0]").endsWith('/_bulk');
    if (isBulk) {
      this.bulkRequests++;
      const hook = this.beforeBulk;
      this.beforeBulk = undefined;
      if (hook) await hook();
      const at = this.atBulk;
      if (at && this.bulkRequests === at.n) {
        this.atBulk = undefined;
        await at.hook();
      }
      const w = this.withText;
      if (w && body.includes(w.text)) {
        this.withText = undefined;
        await w.hook(body.toString('utf8'));
      }
      const lines = body
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== '');
      const kept: string[] = [];
      for (let i = 0; i < lines.length; i += 2) {
        const action = JSON.parse(must(lines[i], 'lines[i]')) as Record<string, { _id: string }>;
        const op = must(Object.keys(action)[0], 'Object.keys(action)[0]');
        const id = must(action[op], 'action[op]')._id;
        const f = this.failItems.get(id);
        if (f && f.times > 0) {
          f.times--;
          injected.push({ pos: i / 2, id, status: f.status, op });
        } else kept.push(must(lines[i], 'lines[i]'), must(lines[i + 1], 'lines[i + 1]'));
      }
      body = Buffer.from(kept.length > 0 ? `${kept.join('\n')}\n` : '', 'utf8');
    }
    const answer = (status: number, headers: Record<string, string>, out: Buffer) => {
      res.writeHead(status, { ...headers, 'content-length': String(out.length) });
      res.end(out);
    };
    if (isBulk && injected.length > 0 && body.length === 0) {
      const items = injected.map((x) => ({
        [x.op]: { _id: x.id, status: x.status, error: { type: 'es_rejected_execution_exception', reason: 'injected' } },
      }));
      answer(
        200,
        { 'content-type': 'application/json' },
        Buffer.from(JSON.stringify({ took: 0, errors: true, items })),
      );
      return;
    }
    const up = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'content-length': String(body.length) },
      },
      (r: IncomingMessage) => {
        const parts: Buffer[] = [];
        r.on('data', (c: Buffer) => parts.push(c));
        r.on('end', () => {
          let out = Buffer.concat(parts);
          if ((req.url ?? '').includes('/_search')) this.recordSearch(req.url ?? '', body, out);
          if (injected.length > 0) {
            const parsed = JSON.parse(out.toString('utf8')) as { errors: boolean; items: unknown[] };
            for (const x of injected) {
              parsed.items.splice(x.pos, 0, {
                [x.op]: {
                  _id: x.id,
                  status: x.status,
                  error: { type: 'es_rejected_execution_exception', reason: 'injected' },
                },
              });
            }
            parsed.errors = true;
            out = Buffer.from(JSON.stringify(parsed));
          }
          const headers: Record<string, string> = {
            'content-type': String(r.headers['content-type'] ?? 'application/json'),
          };
          answer(r.statusCode ?? 502, headers, out);
        });
      },
    );
    up.on('error', () => answer(502, {}, Buffer.alloc(0)));
    up.end(body);
  }

  private recordSearch(path: string, body: Buffer, out: Buffer): void {
    let hits = 0;
    try {
      hits = (JSON.parse(out.toString('utf8')) as { hits?: { hits?: unknown[] } }).hits?.hits?.length ?? 0;
    } catch {
      // not JSON (an error page): no hits
    }
    this.searches.push({ path, body: body.toString('utf8'), hits });
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
