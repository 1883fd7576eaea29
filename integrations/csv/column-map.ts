import { join } from 'node:path';
import { StixgateError } from '../../src/core/errors.js';
import { validate } from '../../src/core/schema.js';
import { loadYamlTable } from '../../src/core/yaml-document.js';
import { columnMapObjectSchema, type ColumnMap, type CsvConfig } from './schema.js';

/** A column reference resolved against the header: an index (CSV) or a key (NDJSON). */
export type ColRef = number | string;

export interface ResolvedMap {
  format: ColumnMap['format'];
  delimiter: string;
  header: boolean;
  commentPrefixes: readonly string[];
  skipWhen?: Record<string, unknown>;
  columns: ColumnMap['columns'];
}

/**
 * Loads `mappings/csv/<name>.yaml`, or assembles the inline map of a source entry; undefined when
 * the entry has neither: the columns are then detected from each document (detect.ts).
 */
export function loadColumnMap(config: CsvConfig, mappingsDir: string, name: string): ResolvedMap | undefined {
  let map: ColumnMap;
  if (config.mapping) {
    if (config.columns) throw configError(name, 'set either `mapping` or inline `columns`, not both');
    map = loadYamlTable(join(mappingsDir, 'csv', `${config.mapping}.yaml`), columnMapObjectSchema, {
      what: 'column map',
    });
  } else {
    if (!config.columns) {
      if (config.format === 'ndjson')
        throw configError(name, 'an ndjson csv source needs `mapping` (a file in mappings/csv/) or inline `columns`');
      return undefined;
    }
    const r = validate(columnMapObjectSchema, {
      format: config.format,
      delimiter: config.delimiter,
      header: config.header,
      comment_prefixes: config.comment_prefixes,
      skip_when: config.skip_when,
      columns: config.columns,
    });
    if (!r.ok) throw configError(name, r.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    map = r.value;
  }
  for (const key of [
    'value',
    'type_column',
    'first_seen',
    'last_seen',
    'confidence',
    'port',
    'malware',
    'description',
  ] as const) {
    const v = map.columns[key];
    if (v !== undefined && !isColRef(v))
      throw configError(name, `columns.${key} must be a column name or a 0-based index`);
  }
  for (const v of map.columns.labels ?? [])
    if (!isColRef(v)) throw configError(name, 'columns.labels must list column names or 0-based indexes');
  if (map.columns.type_column !== undefined && !map.columns.type_map)
    throw configError(name, 'columns.type_column needs columns.type_map');
  if (map.format === 'ndjson' && Object.values(map.columns).some((v) => typeof v === 'number'))
    throw configError(name, 'NDJSON columns are JSON keys, not indexes');
  if (!map.header && map.format !== 'ndjson') {
    for (const v of [map.columns.value, map.columns.first_seen, map.columns.last_seen]) {
      if (typeof v === 'string')
        throw configError(name, `column "${v}" is a name but the map has header: false (use a 0-based index)`);
    }
  }
  return {
    format: map.format,
    delimiter: map.delimiter ?? (map.format === 'tsv' ? '\t' : ','),
    header: map.header,
    commentPrefixes: map.comment_prefixes,
    skipWhen: map.skip_when,
    columns: map.columns,
  };
}

function isColRef(v: unknown): v is ColRef {
  return (
    (typeof v === 'string' && v.length > 0 && v.length <= 256) ||
    (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 10000)
  );
}

function configError(name: string, message: string): StixgateError {
  return new StixgateError('STIXGATE_ERR_CONFIG_INVALID', message, { location: { source: name } });
}
