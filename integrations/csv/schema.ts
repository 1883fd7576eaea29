import { s, type Infer } from '../../src/core/schema.js';
import { LIST_VALUE_TYPES } from '../../src/formats/list-values.js';

/** A column reference: a header name (or JSON key for NDJSON), or a 0-based index. */
const col = (description: string) =>
  s.any({ optional: true, description: `${description} (header name, JSON key or 0-based index)` });

export const columnsSchema = s.object({
  value: s.any({ description: 'column holding the observable value (header name, JSON key or 0-based index)' }),
  type: s.enum(LIST_VALUE_TYPES, {
    default: 'auto',
    description: 'observable type of every value, or `auto` to detect it',
  }),
  type_column: col('column holding a type name, translated by `type_map`'),
  type_map: s.record(s.enum(LIST_VALUE_TYPES), {
    optional: true,
    keyPattern: /^.{1,64}$/,
    description: 'type column value → observable type',
  }),
  first_seen: col('column with the first-seen time (valid_from)'),
  last_seen: col('column with the last-seen time'),
  confidence: col('column with a 0-100 confidence'),
  labels: s.array(s.any(), {
    optional: true,
    maxItems: 16,
    description: 'columns whose values (comma-separated) become labels',
  }),
  label_prefix: s.string({
    optional: true,
    maxLength: 64,
    description: 'prefix for labels from `labels` columns, e.g. `status:`',
  }),
  port: col('column with a port, noted in the description'),
  malware: col('column with a malware family name, becomes a label `malware:<name>`'),
  description: col('column with a description'),
});

export const FORMATS = ['csv', 'tsv', 'ndjson'] as const;

/** The declarative column map, inline in a source entry or in `mappings/csv/<name>.yaml`. */
export const columnMapSchema = {
  format: s.enum(FORMATS, { default: 'csv', description: 'csv, tsv or ndjson (one JSON object per line)' }),
  delimiter: s.string({
    optional: true,
    minLength: 1,
    maxLength: 1,
    description: 'field delimiter (default `,` for csv, TAB for tsv)',
  }),
  header: s.bool({ default: true, description: 'the first non-comment row names the columns' }),
  comment_prefixes: s.array(s.string({ minLength: 1, maxLength: 8 }), {
    default: ['#'],
    maxItems: 10,
    description: 'lines starting with one of these are comments',
  }),
  skip_when: s.record(s.any(), {
    optional: true,
    keyPattern: /^.{1,64}$/,
    description: 'NDJSON records whose keys all equal these values are skipped (e.g. a metadata trailer)',
  }),
  columns: columnsSchema,
};
const mapObject = s.object(columnMapSchema);
export type ColumnMap = Infer<typeof mapObject>;
export const columnMapObjectSchema = mapObject;

export const csvSchema = {
  url: s.string({ description: 'http(s):// or file:// URL (or a path for one-shot commands) of the file' }),
  mapping: s.string({
    optional: true,
    pattern: /^[a-z0-9_-]{1,64}$/,
    patternHint: 'a file name under mappings/csv/ without .yaml',
    description:
      'name of a column map in mappings/csv/ (instead of inline keys); without `mapping` and `columns` the columns are detected from each document (integrations/csv/README.md)',
  }),
  format: s.enum(FORMATS, { optional: true, description: 'inline map: csv, tsv or ndjson' }),
  delimiter: columnMapSchema.delimiter,
  header: s.bool({
    optional: true,
    description: 'inline map: the first non-comment row names the columns (default true)',
  }),
  comment_prefixes: s.array(s.string({ minLength: 1, maxLength: 8 }), {
    optional: true,
    maxItems: 10,
    description: 'inline map: comment prefixes (default `#`)',
  }),
  skip_when: columnMapSchema.skip_when,
  columns: s.object(columnsSchema.props, {
    optional: true,
    description: 'inline map: which column holds what (omit it and `mapping` to detect the columns)',
  }),
};
const csvObject = s.object(csvSchema);
export type CsvConfig = Infer<typeof csvObject>;
