import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/contract.js';
import type { Enricher } from '../../src/enrich/types.js';
import { must } from './must.js';
import { loopbackHttp } from './loopback-http.js';

export { loopbackHttp };

/**
 * Test helpers for enrichment: a counting loopback service (arrival times, scripted 429s), a fake
 * enricher that calls it, an embedded store in a temporary directory, and the sliding-window
 * maximum of arrival times.
 */

export class CountingService {
  readonly arrivals: number[] = [];
  readonly paths: string[] = [];
  /** value → maliciousness; values absent answer 404. */
  scores = new Map<string, number>();
  defaultScore: number | undefined = 50;
  /** Answers the next N requests with 429 and this Retry-After (seconds). */
  throttle: { times: number; retryAfter?: string } | undefined;
  delayMs = 0;
  /** The clock arrivals are noted on (a test's fake clock, when the code under test runs on one). */
  now: () => number = Date.now;
  /** Called with the number of requests seen so far, as each one arrives (before it is answered). */
  onArrival: ((n: number) => void) | undefined;
  private server?: Server;
  base = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.arrivals.push(this.now());
      const url = new URL(req.url ?? '/', 'http://x');
      this.paths.push(url.pathname + url.search);
      this.onArrival?.(this.arrivals.length);
      const answer = (): void => {
        if (this.throttle && this.throttle.times > 0) {
          this.throttle.times--;
          res.writeHead(429, {
            'content-type': 'application/json',
            ...(this.throttle.retryAfter !== undefined ? { 'retry-after': this.throttle.retryAfter } : {}),
          });
          res.end('{"error":"slow down"}');
          return;
        }
        const v = url.searchParams.get('v') ?? '';
        const score = this.scores.get(v) ?? this.defaultScore;
        if (score === undefined) {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end('{"error":"not found"}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ value: v, score }));
      };
      if (this.delayMs > 0) setTimeout(answer, this.delayMs);
      else answer();
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Most arrivals within any window of `windowMs` (half-open). */
export function maxInWindow(arrivals: number[], windowMs: number): number {
  const a = [...arrivals].sort((x, y) => x - y);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < a.length; hi++) {
    while (must(a[hi], 'a[hi]') - must(a[lo], 'a[lo]') >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/** An enricher of IPv4 addresses backed by a CountingService. */
export function fakeEnricher(base: string): Enricher {
  return {
    types: ['ipv4-addr'],
    async enrich(observable, ctx) {
      const res = await ctx.http.request({
        url: `${base}/check?v=${encodeURIComponent(observable.value)}`,
        accept: ['application/json'],
        okStatuses: [404],
        signal: ctx.signal,
      });
      if (res.status === 404) {
        await res.dump();
        return undefined;
      }
      const body = (await res.json()) as { score: number };
      return { maliciousness: body.score, objects: [] };
    },
  };
}

export interface TempStore {
  store: EmbeddedStore & Store;
  dir: string;
  reopen(): Promise<EmbeddedStore & Store>;
  cleanup(): Promise<void>;
}

export async function tempStore(): Promise<TempStore> {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-enrich-'));
  const t: TempStore = {
    store: await openEmbeddedStore({ dataDir: join(dir, 'data') }),
    dir,
    async reopen() {
      await t.store.close();
      t.store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
      return t.store;
    },
    async cleanup() {
      await t.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}
