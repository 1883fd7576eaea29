import { s, type Infer } from '../../src/core/schema.js';

export const stixBundleSchema = {
  url: s.string({
    description:
      'http(s):// or file:// URL (or a path for one-shot commands) of a STIX 2.0/2.1 bundle, an array of objects, or one object',
  }),
  max_object_bytes: s.int({
    default: 10 * 1024 * 1024,
    min: 1024,
    max: 256 * 1024 * 1024,
    description: 'objects larger than this are rejected (too_large) without being buffered',
  }),
  max_depth: s.int({
    default: 64,
    min: 4,
    max: 1000,
    description: 'objects nested deeper than this are rejected (too_deep)',
  }),
  max_description_chars: s.int({
    default: 1024 * 1024,
    min: 1024,
    description: 'objects with a longer description are rejected (field_too_large)',
  }),
  max_labels: s.int({ default: 1000, min: 1, description: 'objects with more labels are rejected (field_too_large)' }),
  max_pattern_chars: s.int({
    default: 64 * 1024,
    min: 256,
    description: 'indicators with a longer pattern are rejected (field_too_large)',
  }),
};
const obj = s.object(stixBundleSchema);
export type StixBundleConfig = Infer<typeof obj>;
