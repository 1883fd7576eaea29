import { Writable } from 'node:stream';
import { pino } from 'pino';
import { validate } from '../../src/core/schema.js';
import { buildIndex } from '../../src/lookup/index.js';
import { buildServer, hashApiKey, serverSchema, type ServerConfig } from '../../src/server/index.js';
import { Metrics } from '../../src/telemetry/metrics.js';
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
