import type { SafeXmlLimits } from '../../src/core/safe-xml.js';
import { PageBuilder } from '../../src/pipeline/input.js';
import type { CommonSourceConfig, IntegrationContext, Page, Source, SourceRunContext } from '../../src/pipeline/types.js';
import { loadStix1Tables } from './common.js';
import { isStix1Package, mapStix1Package } from './map.js';
import type { Stix1Config } from './schema.js';
import { readXmlDocuments, type XmlReadEvent } from './xml-documents.js';

export const STIX1_PAGE_SIZE = 2000;

export function xmlLimits(config: { xml_max_depth: number; xml_max_attributes: number; xml_max_text_chars: number; xml_max_elements: number }): Partial<SafeXmlLimits> {
  return { maxDepth: config.xml_max_depth, maxAttributes: config.xml_max_attributes, maxTextLength: config.xml_max_text_chars, maxElements: config.xml_max_elements };
}

/**
 * Turns mapped documents into pages: a document's objects are split into pages of `pageSize`;
 * the cursor rides on the last page of the last document. A directory member that fails to parse
 * becomes a rejection; a single document that fails to parse throws (nothing is committed).
 */
export async function* xmlPages(
  events: AsyncIterable<XmlReadEvent>,
  pageSize: number,
  mapDoc: (e: Extract<XmlReadEvent, { kind: 'document' }>) => { items: Page['items']; rejections: Page['rejections'] },
): AsyncGenerator<Page> {
  for await (const e of events) {
    const pb = new PageBuilder(pageSize);
    if (e.kind === 'failed') {
      pb.record();
      pb.reject({ reason: e.error.reason, message: e.error.message, location: e.error.location });
      yield pb.take(e.cursor);
      continue;
    }
    const r = mapDoc(e);
    for (const it of r.items) {
      pb.record();
      pb.add(it);
      if (pb.full) yield pb.take();
    }
    for (const rej of r.rejections) {
      pb.record();
      pb.reject(rej);
    }
    yield pb.take(e.cursor);
  }
}

export function createStix1Source(config: Stix1Config & CommonSourceConfig, ictx: IntegrationContext): Source {
  const tables = loadStix1Tables(ictx.mappingsDir);
  return {
    pages(ctx: SourceRunContext): AsyncIterable<Page> {
      const events = readXmlDocuments(
        {
          url: config.url,
          maxBytes: config.max_feed_bytes,
          limits: xmlLimits(config),
          extensions: ['.xml'],
          accept: ['application/xml', 'text/xml', 'application/stix+xml', 'application/octet-stream', 'text/plain', 'application/gzip'],
        },
        ctx,
      );
      return xmlPages(events, STIX1_PAGE_SIZE, ({ doc }) => {
        if (!isStix1Package(doc.root)) {
          return { items: [], rejections: [{ reason: 'not_stix1', message: `root element <${doc.root.name}> is not a STIX 1.x STIX_Package`, location: { source: ctx.id, file: doc.location } }] };
        }
        const r = mapStix1Package(doc.root, { sourceId: ctx.id, file: doc.location, fallbackTime: doc.time, tables });
        const items = r.objects.map((object) => {
          const it: Page['items'][number] = { object };
          if (typeof object.confidence === 'number') it.confidence = object.confidence;
          return it;
        });
        return { items, rejections: r.rejections };
      });
    },
  };
}
