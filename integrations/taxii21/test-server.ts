import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { must } from '../../test/helpers/must.js';

/**
 * A small TAXII 2.1 server on 127.0.0.1 for the taxii21 unit tests, with knobs for the fault
 * cases (looping pages, an ignored added_after, wrong content types, foreign links, skewed dates). Objects are served sorted by date_added; `next` is an offset token.
 */

export interface Stored {
  obj: Record<string, unknown>;
  dateAdded: string;
}

export interface Knobs {
  /** Ignore `added_after`. */
  ignoreAddedAfter?: boolean;
  /** Never send `next` (paging by added_after only). */
  noNext?: boolean;
  /** Always answer `more: true`. */
  moreForever?: boolean;
  /** Send no X-TAXII-Date-Added-* headers. */
  noDateHeaders?: boolean;
  /** Replaces X-TAXII-Date-Added-Last (a repeated or skewed date). */
  dateAddedLast?: (requested: string | undefined) => string;
  /** Replaces `next` in answers (a foreign or internal link). */
  nextValue?: string;
  /** Content type of the object answers (an HTML login page, say). */
  contentType?: string;
  /** Raw body of the object answers. */
  rawBody?: string;
  /** Basic auth `user:password` or an API-key header `name:value` required. */
  basic?: string;
  apiKey?: { header: string; value: string };
  /** API roots listed in discovery (default: this server's /root/). */
  apiRoots?: string[];
  /** Answer manifest requests (default true). */
  manifest?: boolean;
}

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

export const COLLECTION_ID = '9d4c2b7e-1f3a-4e5b-8c6d-0a1b2c3d4e5f';
export const OTHER_COLLECTION_ID = '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';

export function indicator(i: number, dateAdded: string): Stored {
  const hex = i.toString(16).padStart(12, '0');
  return {
    dateAdded,
    obj: {
      type: 'indicator',
      spec_version: '2.1',
      id: `indicator--00000000-0000-4000-8000-${hex}`,
      created: '2026-01-01T00:00:00.000Z',
      modified: '2026-01-01T00:00:00.000Z',
      name: `i${i}`,
      pattern: `[ipv4-addr:value = '203.0.113.${i % 256}']`,
      pattern_type: 'stix',
      valid_from: '2026-01-01T00:00:00Z',
    },
  };
}

/** n indicators, one date_added a second from 2026-02-01T00:00:00Z. */
export function indicators(n: number, from = 0): Stored[] {
  const t0 = Date.UTC(2026, 1, 1);
  return Array.from({ length: n }, (_, k) =>
    indicator(from + k, new Date(t0 + (from + k) * 1000).toISOString().replace('Z', '000Z')),
  );
}

export interface TestServer {
  url: string;
  requests: Recorded[];
  objects: Stored[];
  knobs: Knobs;
  close(): Promise<void>;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  contentType = 'application/taxii+json;version=2.1',
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, ...headers });
  res.end(text);
}

export async function startTaxiiServer(objects: Stored[], knobs: Knobs = {}): Promise<TestServer> {
  const requests: Recorded[] = [];
  const state = { objects, knobs };
  let base = '';
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '', headers: req.headers });
    const k = state.knobs;
    const u = new URL(req.url ?? '/', base);
    if (k.basic && req.headers.authorization !== `Basic ${Buffer.from(k.basic).toString('base64')}`) {
      return send(res, 401, { title: 'Unauthorized' }, { 'www-authenticate': 'Basic realm="taxii"' });
    }
    if (k.apiKey && req.headers[k.apiKey.header.toLowerCase()] !== k.apiKey.value)
      return send(res, 401, { title: 'Unauthorized' });
    if (req.headers.accept !== 'application/taxii+json;version=2.1') return send(res, 406, { title: 'Not Acceptable' });
    const p = u.pathname;
    if (p === '/taxii2/')
      return send(res, 200, {
        title: 'test server',
        default: `${base}/root/`,
        api_roots: k.apiRoots ?? [`${base}/root/`],
      });
    if (p === '/root/')
      return send(res, 200, {
        title: 'Root',
        versions: ['application/taxii+json;version=2.1'],
        max_content_length: 1e7,
      });
    if (p === '/root/collections/') {
      return send(res, 200, {
        collections: [
          { id: COLLECTION_ID, title: 'Indicators', can_read: true, can_write: false },
          { id: OTHER_COLLECTION_ID, title: 'Write only', can_read: false, can_write: true },
        ],
      });
    }
    const sorted = [...state.objects].sort((a, b) =>
      a.dateAdded < b.dateAdded ? -1 : a.dateAdded > b.dateAdded ? 1 : 0,
    );
    const after = u.searchParams.get('added_after') ?? undefined;
    let list = after && !k.ignoreAddedAfter ? sorted.filter((s) => s.dateAdded > after) : sorted;
    const types = u.searchParams.get('match[type]');
    if (types) list = list.filter((s) => types.split(',').includes(String(s.obj.type)));
    if (p === `/root/collections/${COLLECTION_ID}/manifest/`) {
      if (k.manifest === false) return send(res, 404, { title: 'Not found' });
      const id = u.searchParams.get('match[id]');
      const hits = list.filter((s) => s.obj.id === id);
      return send(res, 200, {
        objects: hits.map((s) => ({ id: s.obj.id, date_added: s.dateAdded, version: s.obj.modified })),
      });
    }
    if (p === `/root/collections/${COLLECTION_ID}/objects/`) {
      if (k.rawBody !== undefined) return send(res, 200, k.rawBody, {}, k.contentType ?? 'text/html');
      const limit = Number(u.searchParams.get('limit') ?? 100);
      const offset = Number(u.searchParams.get('next') ?? 0);
      const page = list.slice(offset, offset + limit);
      const more = k.moreForever === true || offset + limit < list.length;
      const headers: Record<string, string> = {};
      if (!k.noDateHeaders && page.length) {
        headers['x-taxii-date-added-first'] = must(page[0], 'page[0]').dateAdded;
        headers['x-taxii-date-added-last'] = must(page[page.length - 1], 'page[page.length - 1]').dateAdded;
      }
      if (k.dateAddedLast) headers['x-taxii-date-added-last'] = k.dateAddedLast(after);
      const env: Record<string, unknown> = { more };
      if (page.length) env.objects = page.map((s) => s.obj);
      if (k.nextValue !== undefined) env.next = k.nextValue;
      else if (more && !k.noNext && offset + limit < list.length) env.next = String(offset + limit);
      return send(res, 200, env, headers, k.contentType);
    }
    return send(res, 404, { title: 'Not found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    requests,
    get objects() {
      return state.objects;
    },
    set objects(v: Stored[]) {
      state.objects = v;
    },
    knobs: state.knobs,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
