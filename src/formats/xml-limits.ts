import { s } from '../core/schema.js';

/** XML hardening limits shared by the STIX 1.x and OpenIOC sources (document size is `max_feed_bytes`). */
export const xmlLimitSchema = {
  xml_max_depth: s.int({
    default: 256,
    min: 8,
    max: 10_000,
    description: 'documents nesting elements deeper than this are rejected (xml_depth)',
  }),
  xml_max_attributes: s.int({
    default: 256,
    min: 8,
    max: 100_000,
    description: 'documents with an element carrying more attributes are rejected (xml_attributes)',
  }),
  xml_max_text_chars: s.int({
    default: 1024 * 1024,
    min: 1024,
    max: 256 * 1024 * 1024,
    description: 'documents with a longer text node or attribute value are rejected (xml_text)',
  }),
  xml_max_elements: s.int({
    default: 8_000_000,
    min: 1000,
    max: 100_000_000,
    description: 'documents with more elements are rejected (xml_elements)',
  }),
};
