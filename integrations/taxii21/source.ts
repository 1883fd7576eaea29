import type { CommonSourceConfig, Page, Source, SourceRunContext } from '../../src/pipeline/types.js';
import { TaxiiClient } from './client.js';
import { formatCursor, parseCursor, withOverlap, type TaxiiCursor } from './cursor.js';
import { listCollections, pickCollections, resolveApiRoot } from './discover.js';
import { pollCollection } from './poll.js';
import type { Taxii21Config } from './schema.js';

/**
 * A TAXII 2.1 source: resolves the API root and collections, then pages through each
 * collection's objects from its cursor (minus `overlap_secs`). Every page carries the whole
 * cursor (all collections), so the runner commits it atomically with the page's objects.
 */
export function createTaxii21Source(config: Taxii21Config & CommonSourceConfig): Source {
  const client = (ctx: SourceRunContext): TaxiiClient =>
    new TaxiiClient(ctx.http, ctx.id, config.url, config.auth, ctx.signal);

  async function resolve(ctx: SourceRunContext) {
    const c = client(ctx);
    const root = await resolveApiRoot(c, ctx.id, config.url, config.api_root);
    const all = await listCollections(c, root.url);
    return { client: c, root, all, picked: pickCollections(ctx.id, all, config.collections) };
  }

  return {
    async *pages(ctx: SourceRunContext): AsyncIterable<Page> {
      const { client: c, picked } = await resolve(ctx);
      const stored = parseCursor(ctx.cursor);
      // full_resync is one-off: the cursor remembers that the full read was made (`resync`)
      const resyncNow = ctx.full === true || (config.full_resync && !stored.resync);
      const state: TaxiiCursor = { collections: resyncNow ? {} : { ...stored.collections } };
      if (config.full_resync) state.resync = true;
      const warn = (fields: Record<string, unknown>, msg: string): void => ctx.logger.warn(fields, `${ctx.id}: ${msg}`);
      for (const col of picked) {
        const from = state.collections[col.id];
        const startAfter = from !== undefined ? withOverlap(from, config.overlap_secs) : undefined;
        const polled = pollCollection(c, col, startAfter, {
          component: ctx.id,
          pageSize: config.page_size,
          matchTypes: config.match_types,
          specVersions: config.spec_versions,
          maxPages: config.max_pages_per_run,
          maxSkewSecs: config.max_skew_secs,
          now: ctx.now,
          signal: ctx.signal,
          warn,
        });
        for await (const p of polled) {
          // never backwards: an overlap re-read or an older header keeps the stored position
          if (p.cursor !== undefined && (from === undefined || p.cursor > (state.collections[col.id] ?? '')))
            state.collections[col.id] = p.cursor;
          yield { items: p.items, rejections: p.rejections, received: p.received, cursor: formatCursor(state) };
        }
      }
    },

    async probe(ctx: SourceRunContext): Promise<string> {
      const { root, all, picked } = await resolve(ctx);
      const readable = all.filter((x) => x.canRead).length;
      const server = root.serverTitle ? `${root.serverTitle}, ` : '';
      return `TAXII 2.1 ${server}API root ${root.title ?? root.url}: ${all.length} collections (${readable} readable), polling ${picked.map((x) => x.title).join(', ') || 'none'}`;
    },
  };
}
