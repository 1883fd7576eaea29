/**
 * A firewall-list server over a small store (shared by the route and lean-path tests): lists
 * `pan` (paloalto, GREEN) and `open` (plain ip, CLEAR); keys `firewall` (edl, GREEN), `clear_fw`
 * (edl, CLEAR) and `reader` (lookup only). `via: 'socket'` listens on loopback and sends real
 * requests (the lean path answers what it may); `via: 'inject'` goes through fastify only.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { accessPolicy } from '../../src/access/policy.js';
import { validate } from '../../src/core/schema.js';
import { EdlLists, edlSchema } from '../../src/edl/index.js';
import { buildIndex } from '../../src/lookup/index.js';
import { NO_DECAY_SCORING } from '../../src/score/model.js';
import { hashApiKey } from '../../src/server/index.js';
import { leanPathOf } from '../../src/server/edl-lean.js';
import { EdlMetrics } from '../../src/telemetry/edl-metrics.js';
import { ChangeLogStore, T0, indicator } from '../lookup/fixtures.js';
import { KEYS, serverConfig, quietServer } from './helpers.js';

export const EDL = 'k-edl-4a5b6c7d8e9f0a1b2c3d';
export const EDL_CLEAR = 'k-edlclear-0f1e2d3c4b5a6978';
export const basic = (user: string, pass: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`,
});

export type Via = 'inject' | 'socket';
export const VIAS: readonly Via[] = ['inject', 'socket'];

export interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
  json(): { error: { code: string; message: string } };
}

/** What the tests call: fastify's `inject`, or the same request over a socket. */
export interface Client {
  inject(o: { url: string; method?: 'GET' | 'HEAD' | 'POST'; headers?: Record<string, string> }): Promise<Answer>;
}

export async function edlStore() {
  const store = new ChangeLogStore();
  store.push(indicator({ n: 1, pattern: "[ipv4-addr:value = '198.51.100.7']", tlp: 'green', score: 80 }));
  store.push(indicator({ n: 2, pattern: "[ipv4-addr:value = '203.0.113.0/24']", tlp: 'clear', score: 60 }));
  store.push(indicator({ n: 3, pattern: "[ipv4-addr:value = '192.0.2.1']", tlp: 'amber', score: 90 }));
  store.push(indicator({ n: 4, pattern: "[url:value = 'https://evil.example/a']", tlp: 'clear', score: 70 }));
  let now = T0;
  const access = accessPolicy({ defaultTlp: 'amber', scoring: NO_DECAY_SCORING });
  const cfg = validate(edlSchema, {
    lists: {
      pan: { format: 'paloalto', max_tlp: 'green' },
      open: { format: 'plain', max_tlp: 'clear', kinds: ['ip'] },
    },
  });
  assert.ok(cfg.ok);
  const registry = new Registry();
  const edlMetrics = new EdlMetrics(registry);
  const lists = new EdlLists(store.asStore(), cfg.value, { access, metrics: edlMetrics, now: () => now });
  return { store, lists, registry, edlMetrics, access, now: () => now, setNow: (v: number) => (now = v) };
}

export type EdlStore = Awaited<ReturnType<typeof edlStore>>;

/** A server over `s` (not listening); `lean: false` leaves every request to fastify. */
export async function edlServer(
  s: EdlStore,
  o: { basicAuth?: boolean; lean?: boolean; server?: Record<string, unknown> } = {},
): Promise<FastifyInstance> {
  const { index } = await buildIndex(s.store.asStore(), { now: s.now });
  const config = serverConfig({
    rate_limit: { enabled: false },
    api_keys: {
      reader: { hash: hashApiKey(KEYS.reader), scopes: ['lookup'] },
      firewall: { hash: hashApiKey(EDL), scopes: ['edl'], max_tlp: 'green' },
      clear_fw: { hash: hashApiKey(EDL_CLEAR), scopes: ['edl'], max_tlp: 'clear' },
    },
    ...o.server,
  });
  return quietServer({
    config,
    index,
    store: s.store.asStore(),
    now: s.now,
    access: s.access,
    edl: { lists: s.lists, basicAuth: o.basicAuth ?? true, metrics: s.edlMetrics, lean: o.lean },
  });
}

/** A client over a listening server: undici requests with the answer shaped as `inject`'s. */
export async function socketClient(app: FastifyInstance): Promise<Client> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  return {
    async inject({ url, method = 'GET', headers = {} }) {
      const r = await request(`${base}${url}`, { method, headers });
      const body = await r.body.text();
      return { statusCode: r.statusCode, headers: r.headers, body, json: () => JSON.parse(body) };
    },
  };
}

/** The lists built, a server and a client `via` fastify's inject or a socket; `lean` counts what the lean path answered. */
export async function rig(t: TestContext, via: Via, basicAuth = true) {
  const s = await edlStore();
  await s.lists.build();
  const server = await edlServer(s, { basicAuth });
  t.after(() => server.close());
  const app: Client =
    via === 'socket'
      ? await socketClient(server)
      : {
          inject: async (o) => {
            const r = await server.inject(o);
            return { statusCode: r.statusCode, headers: r.headers, body: r.body, json: () => r.json() };
          },
        };
  return { app, server, ...s, lean: () => leanPathOf(server)?.answered ?? 0 };
}
