import { Writable } from 'node:stream';
import { pino } from 'pino';
import { validate } from '../../src/core/schema.js';
import { buildIndex } from '../../src/lookup/index.js';
import type { FastifyInstance } from 'fastify';
import {
  type BuildServerOptions,
  buildServer,
  hashApiKey,
  serverSchema,
  type ServerConfig,
} from '../../src/server/index.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { DEFAULT_POLICY } from '../../src/access/policy.js';
import { EdlLists, edlSchema } from '../../src/edl/index.js';
import type { Store } from '../../src/store/contract.js';
import { ChangeLogStore, T0, indicator } from '../lookup/fixtures.js';

export const KEYS = {
  reader: 'k-reader-7f3a9c1e5b2d4f60a8e1',
  clear: 'k-clear-0b9d8e7f6a5c4b3a2d1e',
  red: 'k-red-1c2d3e4f5a6b7c8d9e0f',
  metrics: 'k-metrics-9e8d7c6b5a4f3e2d1c0b',
} as const;

export function serverConfig(over: Record<string, unknown> = {}): ServerConfig {
  const r = validate(serverSchema, {
    api_keys: {
      reader: { hash: hashApiKey(KEYS.reader), scopes: ['lookup'] },
      clear_only: { hash: hashApiKey(KEYS.clear), scopes: ['lookup'], max_tlp: 'clear' },
      red_reader: { hash: hashApiKey(KEYS.red), scopes: ['lookup', 'metrics'], max_tlp: 'red' },
      scraper: { hash: hashApiKey(KEYS.metrics), scopes: ['metrics'] },
    },
    ...over,
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

/**
 * An in-process server as most route tests build it: fresh metrics, a silent log, always ready
 * (each of these can still be given).
 */
export function quietServer(
  o: Omit<BuildServerOptions, 'metrics' | 'logger' | 'isReady'> &
    Partial<Pick<BuildServerOptions, 'metrics' | 'logger' | 'isReady'>>,
): FastifyInstance {
  return buildServer({
    metrics: new Metrics({ defaults: false }),
    logger: pino({ level: 'silent' }),
    isReady: () => true,
    ...o,
  });
}

/** Firewall lists over `store` with one PAN-OS list `pan` under the default access policy, built at `now`. */
export async function panLists(store: Store, now: number): Promise<EdlLists> {
  const cfg = validate(edlSchema, { lists: { pan: { format: 'paloalto' } } });
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.issues));
  const lists = new EdlLists(store, cfg.value, { access: DEFAULT_POLICY, now: () => now });
  await lists.build();
  return lists;
}

/** A store with a few indicators of each TLP, and a server over it with a captured log. */
export async function setup(over: Record<string, unknown> = {}, opts: { ready?: boolean } = {}) {
  const store = new ChangeLogStore();
  store.push(indicator({ n: 1, pattern: "[ipv4-addr:value = '198.51.100.7']", tlp: 'green', score: 80 }));
  store.push(indicator({ n: 2, pattern: "[domain-name:value = 'evil.example']", tlp: 'amber' }));
  store.push(indicator({ n: 3, pattern: "[ipv4-addr:value = '203.0.113.0/24']", tlp: 'clear' }));
  store.push(indicator({ n: 4, pattern: "[url:value = 'http://red.example/a']", tlp: 'red' }));
  store.push(indicator({ n: 5, pattern: "[domain-name:value = 'gone.example']", validUntil: T0 + 1000 }));
  let now = T0;
  const { index } = await buildIndex(store.asStore(), { now: () => now });
  const metrics = new Metrics({ defaults: false });
  const lines: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
  );
  let ready = opts.ready ?? true;
  const app = buildServer({
    config: serverConfig(over),
    index,
    store: store.asStore(),
    metrics,
    logger,
    isReady: () => ready,
    now: () => now,
  });
  return {
    app,
    store,
    index,
    metrics,
    lines,
    setNow: (t: number) => {
      now = t;
    },
    setReady: (r: boolean) => {
      ready = r;
    },
  };
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
