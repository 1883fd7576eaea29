import type { CommonSourceConfig, IntegrationContext, Source } from '../../src/pipeline/types.js';
import { xmlDocumentSource } from '../../src/formats/xml-documents.js';
import { loadOpenIocTerms, mapOpenIoc } from './map.js';
import type { OpenIocConfig } from './schema.js';

export const OPENIOC_PAGE_SIZE = 1000;

const FORMAT = {
  extensions: ['.ioc', '.xml'],
  accept: ['application/xml', 'text/xml', 'application/octet-stream', 'text/plain', 'application/gzip'],
  pageSize: OPENIOC_PAGE_SIZE,
};

export function createOpenIocSource(config: OpenIocConfig & CommonSourceConfig, ictx: IntegrationContext): Source {
  const terms = loadOpenIocTerms(ictx.mappingsDir);
  return xmlDocumentSource(config, FORMAT, (doc, ctx) => {
    const r = mapOpenIoc(doc.root, { sourceId: ctx.id, file: doc.location, fallbackTime: doc.time, terms });
    // the indicator carries the IOC's own date (docs/scoring.md §2a); the author identity is undated
    return {
      items: r.objects.map((object) =>
        object.type === 'indicator' && r.seenAt ? { object, seenAt: r.seenAt } : { object },
      ),
      rejections: r.rejections,
    };
  });
}
