import { safeJsonParse } from '../../src/core/safe-json.js';
import { lastPages, openRunInput, PageBuilder } from '../../src/pipeline/input.js';
import type { CommonSourceConfig, Page, Source, SourceRunContext } from '../../src/pipeline/types.js';
import { ObjectSplitter, splitStream } from '../../src/formats/json-split.js';
import { mapKevEntry } from './map.js';
import type { CisaKevConfig } from './schema.js';

export const KEV_PAGE_SIZE = 1000;

export function createCisaKevSource(config: CisaKevConfig & CommonSourceConfig): Source {
  return {
    async *pages(ctx: SourceRunContext): AsyncIterable<Page> {
      const doc = await openRunInput(config.url, ctx, {
        maxBytes: config.max_feed_bytes,
        accept: ['application/json', 'text/plain', 'application/octet-stream'],
      });
      if (doc.notModified) return;
      // The catalog is `{ …, "vulnerabilities": [ … ] }`: stream its entries like bundle objects.
      const splitter = new ObjectSplitter({
        maxObjectBytes: 1 << 20,
        maxDepth: 8,
        name: ctx.id,
        arrayKey: 'vulnerabilities',
      });
      const pb = new PageBuilder(KEV_PAGE_SIZE);
      for await (const ev of splitStream(doc.body, splitter)) {
        pb.record();
        const location = { source: ctx.id, index: ev.index };
        if (ev.kind === 'error') {
          pb.reject({ reason: ev.reason, message: ev.message, location });
          continue;
        }
        const parsed = safeJsonParse(ev.text, { maxDepth: 8, knownDepth: ev.depth, knownMembers: ev.members });
        if (!parsed.ok) {
          pb.reject({ reason: parsed.reason, message: parsed.message, location });
          continue;
        }
        const r = mapKevEntry(parsed.value, location);
        if (r.ok) pb.add({ object: r.object, seenAt: r.object.created });
        else pb.reject(r.rejection);
        if (pb.full) yield pb.take();
      }
      yield* lastPages(pb, doc, config, ctx.id);
    },
  };
}
