import type {
  CommonSourceConfig,
  IntegrationContext,
  Page,
  Source,
  SourceRunContext,
} from '../../src/pipeline/types.js';
import { readXmlDocuments, xmlLimits, xmlPages } from '../../src/formats/xml-documents.js';
import { loadOpenIocTerms, mapOpenIoc } from './map.js';
import type { OpenIocConfig } from './schema.js';

export const OPENIOC_PAGE_SIZE = 1000;

export function createOpenIocSource(config: OpenIocConfig & CommonSourceConfig, ictx: IntegrationContext): Source {
  const terms = loadOpenIocTerms(ictx.mappingsDir);
  return {
    pages(ctx: SourceRunContext): AsyncIterable<Page> {
      const events = readXmlDocuments(
        {
          url: config.url,
          maxBytes: config.max_feed_bytes,
          limits: xmlLimits(config),
          extensions: ['.ioc', '.xml'],
          accept: ['application/xml', 'text/xml', 'application/octet-stream', 'text/plain', 'application/gzip'],
        },
        ctx,
      );
      return xmlPages(events, OPENIOC_PAGE_SIZE, ({ doc }) => {
        const r = mapOpenIoc(doc.root, { sourceId: ctx.id, file: doc.location, fallbackTime: doc.time, terms });
        // the indicator carries the IOC's own date (docs/scoring.md §2a); the author identity is undated
        return {
          items: r.objects.map((object) =>
            object.type === 'indicator' && r.seenAt ? { object, seenAt: r.seenAt } : { object },
          ),
          rejections: r.rejections,
        };
      });
    },
  };
}
