import { s, type Infer } from '../../src/core/schema.js';
import { LIST_VALUE_TYPES } from '../../src/formats/list-values.js';

export const textListSchema = {
  url: s.string({ description: 'http(s):// or file:// URL (or a path for one-shot commands) of the list' }),
  value_type: s.enum(LIST_VALUE_TYPES, {
    default: 'auto',
    description: 'observable type of every value; `auto` detects each value',
  }),
  comment_prefixes: s.array(s.string({ minLength: 1, maxLength: 8 }), {
    default: ['#', ';', '//'],
    maxItems: 10,
    description: 'lines starting with one of these (after spaces) are comments',
  }),
  field_separator: s.string({
    optional: true,
    minLength: 1,
    maxLength: 1,
    description:
      'take the value from the first field split by this character (default: first whitespace-separated token)',
  }),
  count_field: s.int({
    optional: true,
    min: 1,
    max: 32,
    description: "whitespace-separated field (0-based, >0) holding a count, e.g. IPsum's list count",
  }),
  min_count: s.int({
    optional: true,
    min: 0,
    description: 'skip values whose count_field is below this (not counted as rejections)',
  }),
  count_confidence: s.record(s.int({ min: 0, max: 100 }), {
    optional: true,
    keyPattern: /^[0-9]{1,6}$/,
    description:
      'confidence by count threshold, e.g. { "1": 20, "3": 50, "6": 80 }: the highest threshold <= count applies',
  }),
};

const schemaObject = s.object(textListSchema);
export type TextListConfig = Infer<typeof schemaObject>;
