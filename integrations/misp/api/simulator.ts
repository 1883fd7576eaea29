/**
 * A small MISP REST simulator (node:http, loopback) for the misp_api tests: /events/restSearch,
 * /attributes/restSearch (timestamp, published, tags, to_ids, limit/page filters as MISP applies
 * them), /servers/getVersion, the Authorization key, and injected faults.
 */
import { at, first } from '../../../src/core/indexed.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SimAttribute {
  uuid: string;
  type: string;
  value: string;
  to_ids: boolean;
  timestamp: number;
  category?: string;
  [k: string]: unknown;
}
export interface SimEvent {
  uuid: string;
  info: string;
  timestamp: number;
  published: boolean;
  tags: string[];
  attributes: SimAttribute[];
  [k: string]: unknown;
}

export interface SimOptions {
  key: string;
  /** Serve records in this order before paging (default: as stored; MISP gives no order guarantee). */
  order?: 'stored' | 'reverse' | 'shuffled';
  /** Return everything whatever `timestamp` says (MISP #8843-like servers). */
  ignoreTimestamp?: boolean;
  /** Return page 1 whatever `page` says. */
  ignorePage?: boolean;
  /** Answer this status to the Nth search request (1-based), once. */
  failRequest?: { n: number; status: number };
  /** Raw JSON text to serve instead of the events (for hostile documents). */
  rawEvents?: string;
}

export interface Simulator {
  url: string;
  events: SimEvent[];
  requests: { path: string; body: Record<string, unknown>; authorization?: string }[];
  close(): Promise<void>;
}

function shuffle<T>(list: T[]): T[] {
  const out = [...list];
  let seed = 7;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const j = seed % (i + 1);
    [out[i], out[j]] = [at(out, j), at(out, i)];
  }
  return out;
}

export async function startMispSimulator(events: SimEvent[], opts: SimOptions): Promise<Simulator> {
  const sim: Simulator = { url: '', events, requests: [], close: async () => {} };
  let searches = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = first((req.url ?? '/').split('?'));
      let body: Record<string, unknown> = {};
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch {
        return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"bad JSON"}');
      }
      const authorization = req.headers.authorization;
      sim.requests.push({ path, body, authorization });
      const json = (status: number, v: unknown) =>
        res
          .writeHead(status, { 'content-type': 'application/json' })
          .end(typeof v === 'string' ? v : JSON.stringify(v));
      if (authorization !== opts.key)
        return json(403, { name: 'Authentication failed.', message: 'Authentication failed.', url: path });
      if (path === '/servers/getVersion' && req.method === 'GET')
        return json(200, { version: '2.4.190', perm_sync: false, perm_sighting: true });
      if (req.method !== 'POST' || (path !== '/events/restSearch' && path !== '/attributes/restSearch'))
        return json(404, { message: 'Not found' });
      searches++;
      if (opts.failRequest && opts.failRequest.n === searches)
        return json(opts.failRequest.status, { message: 'injected failure' });
      if (opts.rawEvents !== undefined) return json(200, opts.rawEvents);
      const since = typeof body.timestamp === 'number' && !opts.ignoreTimestamp ? body.timestamp : 0;
      const tags = Array.isArray(body.tags) ? (body.tags as string[]) : [];
      const tagOk = (e: SimEvent) =>
        tags.length === 0 || tags.some((t) => (t.startsWith('!') ? !e.tags.includes(t.slice(1)) : e.tags.includes(t)));
      const limit = typeof body.limit === 'number' ? body.limit : 1e9;
      const page = opts.ignorePage ? 1 : typeof body.page === 'number' ? body.page : 1;
      const order = <T>(l: T[]) =>
        opts.order === 'reverse' ? [...l].reverse() : opts.order === 'shuffled' ? shuffle(l) : l;
      const slice = <T>(l: T[]) => l.slice((page - 1) * limit, page * limit);
      const evs = events.filter((e) => (body.published === true ? e.published : true) && tagOk(e));
      const tagJson = (e: SimEvent) => e.tags.map((name) => ({ name }));
      if (path === '/events/restSearch') {
        const hit = order(evs.filter((e) => e.timestamp >= since));
        return json(200, {
          response: slice(hit).map((e) => {
            const { attributes, tags: t, ...rest } = e;
            return {
              Event: {
                ...rest,
                timestamp: String(e.timestamp),
                Tag: tagJson(e),
                Attribute: attributes
                  .filter((a) => (body.to_ids === true ? a.to_ids : true))
                  .map((a) => ({ ...a, timestamp: String(a.timestamp) })),
              },
            };
          }),
        });
      }
      const attrs = evs.flatMap((e) =>
        e.attributes.map((a) => ({ ...a, event_uuid: e.uuid, Event: { uuid: e.uuid, Tag: tagJson(e) } })),
      );
      const wire = (a: (typeof attrs)[number]) => ({ ...a, timestamp: String(a.timestamp) });
      const hit = order(attrs.filter((a) => a.timestamp >= since && (body.to_ids === true ? a.to_ids : true)));
      return json(200, { response: { Attribute: slice(hit).map(wire) } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  sim.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sim.close = () => new Promise<void>((r) => server.close(() => r()));
  return sim;
}
