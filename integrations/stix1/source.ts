import type { CommonSourceConfig, IntegrationContext, Page, Source } from '../../src/pipeline/types.js';
import { loadStix1Tables } from './common.js';
import { isStix1Package, mapStix1Package } from './map.js';
import type { Stix1Config } from './schema.js';
import { xmlDocumentSource } from '../../src/formats/xml-documents.js';

export const STIX1_PAGE_SIZE = 2000;

const FORMAT = {
  extensions: ['.xml'],
  accept: [
    'application/xml',
    'text/xml',
    'application/stix+xml',
    'application/octet-stream',
    'text/plain',
    'application/gzip',
  ],
  pageSize: STIX1_PAGE_SIZE,
};

export function createStix1Source(config: Stix1Config & CommonSourceConfig, ictx: IntegrationContext): Source {
  const tables = loadStix1Tables(ictx.mappingsDir);
  return xmlDocumentSource(config, FORMAT, (doc, ctx) => {
    if (!isStix1Package(doc.root)) {
      return {
        items: [],
        rejections: [
          {
            reason: 'not_stix1',
            message: `root element <${doc.root.name}> is not a STIX 1.x STIX_Package`,
            location: { source: ctx.id, file: doc.location },
          },
        ],
      };
    }
    const r = mapStix1Package(doc.root, { sourceId: ctx.id, file: doc.location, fallbackTime: doc.time, tables });
    const items = r.objects.map((object) => {
      const it: Page['items'][number] = { object };
      if (typeof object.confidence === 'number') it.confidence = object.confidence;
      const seen = r.seenAt.get(object.id);
      if (seen !== undefined) it.seenAt = seen;
      return it;
    });
    return { items, rejections: r.rejections };
  });
}
