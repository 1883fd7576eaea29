import { StixgateError } from '../../src/core/errors.js';
import { UNDATED_RELIST_MS } from '../../src/score/record-time.js';
import { CsvRowAssembler, type CsvRow } from '../../src/core/csv-rows.js';
import { safeJsonParse, DANGEROUS_KEYS } from '../../src/core/safe-json.js';
import { splitLines, type LineRecord } from '../../src/core/text-lines.js';
import { detectDocument } from './detect-lines.js';
import { lastPages, openRunInput, PageBuilder } from '../../src/pipeline/input.js';
import type {
  CommonSourceConfig,
  IntegrationContext,
  Page,
  Source,
  SourceRunContext,
} from '../../src/pipeline/types.js';
import { mapContext } from '../../src/formats/list-values.js';
import type { MapContext } from '../../src/formats/list-values.js';
import { loadColumnMap, type ResolvedMap } from './column-map.js';
import { bindColumns, csvGetter, jsonGetter, mapRow, type Binding } from './map.js';
import type { CsvConfig } from './schema.js';

export const CSV_PAGE_SIZE = 5000;
export const MAX_LINE_BYTES = 64 * 1024;

/** Per-document parsing state: the header binding and the expected column count. */
class RowMapper {
  binding: Binding | undefined;
  expected: number | undefined;

  /** `headerLine`: a header row the map does not bind by name (the detected header), skipped. */
  constructor(
    private readonly map: ResolvedMap,
    private readonly mctx: MapContext,
    private readonly name: string,
    private readonly headerLine?: number,
  ) {
    if (!map.header || map.format === 'ndjson') this.binding = bindColumns(map, undefined).binding;
  }

  csvRow(row: CsvRow, pb: PageBuilder): void {
    const location = { source: this.name, line: row.line, column: row.error !== undefined ? row.column : undefined };
    if (row.error !== undefined) {
      pb.record();
      pb.reject({ reason: row.error === 'quote' ? 'bad_quotes' : row.error, message: row.message, location });
      return;
    }
    if (row.line === this.headerLine) {
      this.expected = row.fields.length;
      return;
    }
    if (this.map.header && this.expected === undefined) {
      const { binding, missing } = bindColumns(this.map, row.fields);
      if (missing.length) {
        throw new StixgateError(
          'STIXGATE_ERR_INPUT_PARSE',
          `header row lacks column(s) ${missing.map((m) => JSON.stringify(m)).join(', ')} named by the column map`,
          {
            reason: 'missing_column',
            location: { source: this.name, line: row.line },
          },
        );
      }
      this.binding = binding;
      this.expected = row.fields.length;
      return;
    }
    pb.record();
    if (this.expected === undefined) this.expected = row.fields.length;
    if (row.fields.length !== this.expected) {
      pb.reject({
        reason: 'column_count',
        message: `row has ${row.fields.length} columns, expected ${this.expected}`,
        location: { source: this.name, line: row.line },
      });
      return;
    }
    if (!this.binding) {
      pb.reject({ reason: 'no_header', message: 'data row before the header row', location });
      return;
    }
    const r = mapRow(csvGetter(row.fields), this.binding, this.mctx, { source: this.name, line: row.line });
    if (r.ok) pb.add(r.item);
    else pb.reject(r.rejection);
  }

  jsonLine(rec: LineRecord, pb: PageBuilder): void {
    const location = { source: this.name, line: rec.line };
    if (rec.error !== undefined) {
      pb.record();
      pb.reject({
        reason: rec.error,
        message: rec.error === 'too_long' ? `line longer than ${MAX_LINE_BYTES} bytes` : 'line is not valid UTF-8 text',
        location,
      });
      return;
    }
    const t = rec.text.trim();
    if (t === '' || this.map.commentPrefixes.some((p) => t.startsWith(p))) return;
    const parsed = safeJsonParse(t, { maxDepth: 32 });
    if (!parsed.ok) {
      pb.record();
      pb.reject({ reason: parsed.reason, message: parsed.message, location });
      return;
    }
    const v = parsed.value;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      pb.record();
      pb.reject({ reason: 'not_object', message: 'NDJSON line is not a JSON object', location });
      return;
    }
    const obj = v as Record<string, unknown>;
    if (
      this.map.skipWhen &&
      Object.entries(this.map.skipWhen).every(
        ([k, want]) => !DANGEROUS_KEYS.has(k) && Object.hasOwn(obj, k) && obj[k] === want,
      )
    )
      return;
    pb.record();
    if (!this.binding) {
      pb.reject({ reason: 'no_header', message: 'NDJSON line read without a column binding', location });
      return;
    }
    const r = mapRow(jsonGetter(obj), this.binding, this.mctx, location);
    if (r.ok) pb.add(r.item);
    else pb.reject(r.rejection);
  }
}

export function createCsvSource(
  config: CsvConfig & CommonSourceConfig,
  ictx: IntegrationContext,
  name = 'csv',
): Source {
  const map = loadColumnMap(config, ictx.mappingsDir, name);
  return {
    async *pages(ctx: SourceRunContext): AsyncIterable<Page> {
      const doc = await openRunInput(config.url, ctx, {
        maxBytes: config.max_feed_bytes,
        relistAfterMs: UNDATED_RELIST_MS,
        accept:
          map?.format === 'ndjson'
            ? [
                'application/json',
                'application/x-ndjson',
                'application/jsonl',
                'text/plain',
                'application/octet-stream',
              ]
            : [
                'text/csv',
                'text/plain',
                'text/tab-separated-values',
                'application/csv',
                'application/octet-stream',
                'application/gzip',
                'application/x-gzip',
              ],
      });
      if (doc.notModified) return;
      let lines: AsyncIterable<LineRecord[]> = splitLines(doc.body, { maxLineBytes: MAX_LINE_BYTES, name: ctx.id });
      let docMap = map;
      let headerLine: number | undefined;
      let explain: string[] | undefined;
      if (!docMap) {
        // the generic mode: the columns are chosen from the document's first rows
        const d = await detectDocument(lines, config.comment_prefixes ?? ['#'], ctx.id);
        ({ map: docMap, headerLine, lines } = d);
        explain = d.detection.report.map((l) => `csv detection: ${l}`);
      }
      // the explanation rides on the first page only
      const withExplain = (page: Page): Page => {
        if (explain) {
          page.explain = explain;
          explain = undefined;
        }
        return page;
      };
      const rows = new RowMapper(docMap, mapContext(config, ctx), ctx.id, headerLine);
      const pb = new PageBuilder(CSV_PAGE_SIZE);
      const asm =
        docMap.format === 'ndjson'
          ? undefined
          : new CsvRowAssembler({ delimiter: docMap.delimiter, commentPrefixes: docMap.commentPrefixes });
      const out: CsvRow[] = [];
      for await (const batch of lines) {
        if (asm) {
          out.length = 0;
          asm.push(batch, out);
          for (const row of out) rows.csvRow(row, pb);
        } else for (const rec of batch) rows.jsonLine(rec, pb);
        if (pb.full) yield withExplain(pb.take());
      }
      if (asm) {
        out.length = 0;
        for (const row of asm.end(out)) rows.csvRow(row, pb);
      }
      for await (const page of lastPages(pb, doc, config, ctx.id)) yield withExplain(page);
    },
  };
}
