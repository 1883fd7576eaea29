/** Test support for the MISP sources: runs a source through config parsing with the MISP types registered. */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { listenLoopback } from '../../integrations/loopback-server.js';
import { registry } from '../../integrations/index.js';
import type { Page } from '../../src/pipeline/types.js';
import { mispFeedSource } from '../../integrations/misp/feed/index.js';
import { mispApiSource } from '../../integrations/misp/api/index.js';
import { must } from './must.js';
import { componentPages, sourceComponent } from './source-harness.js';
import { FIXED_NOW } from './collect.js';

export { FIXED_NOW } from './collect.js';

const withMisp = () => [
  ...registry.filter((d) => d.type !== 'misp_feed' && d.type !== 'misp_api'),
  mispFeedSource,
  mispApiSource,
];

export function mispComponent(type: 'misp_feed' | 'misp_api', options: Record<string, unknown>) {
  return sourceComponent(
    't',
    { type, allow_private: true, allow_insecure: true, ...options },
    { registry: withMisp() },
  );
}

/** One run: every page, in order. */
export async function runPages(
  type: 'misp_feed' | 'misp_api',
  options: Record<string, unknown>,
  cursor?: string,
  now = FIXED_NOW,
): Promise<Page[]> {
  const comp = mispComponent(type, options);
  const pages: Page[] = [];
  try {
    for await (const p of componentPages(comp, now, cursor === undefined ? {} : { cursor })) pages.push(p);
  } finally {
    await comp.http.close?.();
  }
  return pages;
}

export function lastCursor(pages: Page[]): string | undefined {
  let c: string | undefined;
  for (const p of pages) if (p.cursor !== undefined) c = p.cursor;
  return c;
}

/**
 * Serves the files of a MISP feed folder under `/feed/` on loopback (tests and the W3 benchmark).
 * `onGet` sees every requested name; `transform` may alter a file's bytes before they are sent.
 */
export async function serveFeedDir(
  dir: string,
  o: { onGet?: (name: string) => void; transform?: (name: string, body: Buffer) => Buffer } = {},
): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const name = decodeURIComponent(
      must((req.url ?? '/').split('?')[0], "(req.url ?? '/').split('?')[0]").replace(/^\/feed\//, ''),
    );
    o.onGet?.(name);
    if (!/^[\w.-]+$/.test(name)) return void res.writeHead(404).end();
    let body: Buffer;
    try {
      body = readFileSync(join(dir, name));
    } catch {
      return void res.writeHead(404).end();
    }
    if (o.transform) body = o.transform(name, body);
    res
      .writeHead(200, {
        'content-type': name.endsWith('.csv') ? 'text/csv' : 'application/json',
        'content-length': String(body.length),
      })
      .end(body);
  });
  return { server, base: `${await listenLoopback(server)}/feed/` };
}
