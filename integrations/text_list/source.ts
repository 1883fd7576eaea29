import type { ObservableType } from '../../src/core/stix.js';
import { UNDATED_RELIST_MS } from '../../src/score/record-time.js';
import { splitLines } from '../../src/core/text-lines.js';
import { lastPages, openRunInput, PageBuilder } from '../../src/pipeline/input.js';
import type { CommonSourceConfig, Page, Source, SourceRunContext } from '../../src/pipeline/types.js';
import { mapContext, mapTextLineValues, type TextLineOptions } from '../../src/formats/list-values.js';
import type { TextListConfig } from './schema.js';

export const TEXT_LIST_PAGE_SIZE = 5000;
export const MAX_LINE_BYTES = 64 * 1024;

export function textLineOptions(config: TextListConfig): TextLineOptions {
  const table = config.count_confidence
    ? Object.entries(config.count_confidence)
        .map(([k, v]) => [Number(k), v] as const)
        .sort((a, b) => b[0] - a[0])
    : undefined;
  return {
    valueType: config.value_type as ObservableType | 'auto',
    commentPrefixes: config.comment_prefixes,
    fieldSeparator: config.field_separator,
    countField: config.count_field,
    minCount: config.min_count,
    countConfidence: table,
  };
}

export function createTextListSource(config: TextListConfig & CommonSourceConfig): Source {
  const opts = textLineOptions(config);
  return {
    async *pages(ctx: SourceRunContext): AsyncIterable<Page> {
      const doc = await openRunInput(config.url, ctx, {
        maxBytes: config.max_feed_bytes,
        relistAfterMs: UNDATED_RELIST_MS,
        accept: ['text/plain', 'text/csv', 'application/octet-stream', 'application/gzip', 'application/x-gzip'],
      });
      if (doc.notModified) return;
      const mctx = mapContext(config, ctx);
      const pb = new PageBuilder(TEXT_LIST_PAGE_SIZE);
      for await (const batch of splitLines(doc.body, { maxLineBytes: MAX_LINE_BYTES, name: ctx.id })) {
        for (const rec of batch) {
          if (rec.error !== undefined) {
            pb.record();
            pb.reject({
              reason: rec.error,
              message:
                rec.error === 'too_long'
                  ? `line longer than ${MAX_LINE_BYTES} bytes`
                  : 'line is not valid UTF-8 text (NUL or invalid bytes)',
              location: { source: ctx.id, line: rec.line },
            });
            continue;
          }
          const [r, ...more] = mapTextLineValues(rec.text, rec.line, opts, mctx);
          if (r === undefined) continue; // a line maps to at least one result
          if ('kind' in r) {
            if (r.kind === 'filtered') pb.record();
            continue;
          }
          pb.record();
          if (r.ok) pb.add(r.item);
          else pb.reject(r.rejection);
          for (const m of more) if (!('kind' in m) && m.ok) pb.add(m.item);
        }
        if (pb.full) yield pb.take();
      }
      yield* lastPages(pb, doc, config, ctx.id);
    },
  };
}
