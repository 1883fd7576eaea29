import { lastPages, openRunInput, PageBuilder } from '../../src/pipeline/input.js';
import type { CommonSourceConfig, Page, Source, SourceRunContext } from '../../src/pipeline/types.js';
import { mapElement } from './map.js';
import type { StixBundleConfig } from './schema.js';
import { ObjectSplitter, splitStream } from '../../src/formats/json-split.js';
import type { FieldCaps } from '../../src/core/stix-check.js';

export const STIX_PAGE_SIZE = 1000;

export function createStixBundleSource(config: StixBundleConfig & CommonSourceConfig): Source {
  const caps: FieldCaps = {
    maxDescription: config.max_description_chars,
    maxLabels: config.max_labels,
    maxPattern: config.max_pattern_chars,
    maxString: Math.max(config.max_description_chars, 1 << 20),
  };
  return {
    async *pages(ctx: SourceRunContext): AsyncIterable<Page> {
      const doc = await openRunInput(config.url, ctx, {
        maxBytes: config.max_feed_bytes,
        accept: [
          'application/json',
          'application/stix+json',
          'application/taxii+json',
          'application/octet-stream',
          'text/plain',
          'application/gzip',
        ],
      });
      if (doc.notModified) return;
      const splitter = new ObjectSplitter({
        maxObjectBytes: config.max_object_bytes,
        maxDepth: config.max_depth,
        name: ctx.id,
      });
      const pb = new PageBuilder(STIX_PAGE_SIZE);
      for await (const ev of splitStream(doc.body, splitter)) {
        pb.record();
        const r = mapElement(ev, caps, config.max_depth, ctx.id);
        if (r.items) for (const it of r.items) pb.add(it);
        else if (r.rejection) pb.reject(r.rejection);
        if (pb.full) yield pb.take();
      }
      yield* lastPages(pb, doc, config, ctx.id);
    },
  };
}
