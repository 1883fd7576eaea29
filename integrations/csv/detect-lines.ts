import { StixgateError } from '../../src/core/errors.js';
import type { LineRecord } from '../../src/core/text-lines.js';
import type { ResolvedMap } from './column-map.js';
import { DETECT_SAMPLE_LINES, DetectionError, detectColumns, type Detection } from './detect.js';

export interface DetectedDocument {
  map: ResolvedMap;
  detection: Detection;
  /** The line of the header row to skip (when the header is the first data row). */
  headerLine?: number;
  /** Every line batch of the document, the sampled ones first (nothing is read twice). */
  lines: AsyncIterable<LineRecord[]>;
}

/**
 * Reads the first DETECT_SAMPLE_LINES data lines of a CSV document, chooses its column map
 * (detect.ts) and hands back the map and the whole document's lines. A document in which no
 * column holds observables is refused as a whole (`no_value_column`).
 */
export async function detectDocument(
  batches: AsyncIterable<LineRecord[]>,
  commentPrefixes: readonly string[],
  name: string,
): Promise<DetectedDocument> {
  const it = batches[Symbol.asyncIterator]();
  const buffered: LineRecord[][] = [];
  const data: string[] = [];
  const comments: string[] = [];
  let firstDataLine: number | undefined;
  let done = false;
  while (data.length < DETECT_SAMPLE_LINES) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    buffered.push(r.value);
    for (const rec of r.value) {
      if (rec.error !== undefined || data.length >= DETECT_SAMPLE_LINES) continue;
      const t = rec.text.trim();
      if (t === '') continue;
      const prefix = commentPrefixes.find((p) => t.startsWith(p));
      if (prefix !== undefined) {
        if (data.length === 0) comments.push(t.slice(prefix.length).trim());
        continue;
      }
      firstDataLine ??= rec.line;
      data.push(rec.text);
    }
  }
  let detection: Detection;
  try {
    detection = detectColumns(data, comments);
  } catch (e) {
    if (!(e instanceof DetectionError)) throw e;
    throw new StixgateError(
      'STIXGATE_ERR_INPUT_PARSE',
      `cannot detect the CSV columns: ${e.message}; give the source a column map (mapping or columns)`,
      {
        reason: 'no_value_column',
        location: { source: name },
      },
    );
  }
  const map: ResolvedMap = {
    format: 'csv',
    delimiter: detection.delimiter,
    header: false,
    commentPrefixes,
    columns: detection.columns,
  };
  async function* all(): AsyncIterable<LineRecord[]> {
    yield* buffered;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { map, detection, headerLine: detection.headerRow ? firstDataLine : undefined, lines: all() };
}
