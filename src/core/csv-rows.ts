import type { LineRecord } from './text-lines.js';

/**
 * A quote-aware CSV row assembler (RFC 4180) over the physical lines of `splitLines`:
 * quoted fields, doubled quotes, embedded newlines (a quoted field may span lines), any
 * one-character delimiter, comment lines and blank lines skipped.
 *
 * Broken rows are returned as errors with a line and column, and parsing resynchronises:
 * - text after a closing quote (`"a"b,c`) rejects that row only;
 * - a quote that never closes within `maxRecordLines` lines (or before the end) rejects the row
 *   where it opened, and the lines it swallowed are parsed again as rows of their own.
 */

export type CsvRow =
  | { line: number; fields: string[]; error?: undefined }
  | { line: number; column?: number; error: 'quote' | 'encoding' | 'too_long'; message: string; fields?: undefined };

export interface CsvRowOptions {
  delimiter?: string;
  commentPrefixes?: readonly string[];
  /** Lines a quoted field may span before the row is refused (default 100). */
  maxRecordLines?: number;
  /** Characters a multi-line record may hold before it is refused (default 1 MiB). */
  maxRecordChars?: number;
}

type Parsed = { fields: string[] } | { incomplete: true } | { column: number; message: string };

const QUOTE = 0x22;

export function parseCsvLine(text: string, delim: string): Parsed {
  if (text.indexOf('"') === -1) return { fields: text.split(delim) };
  const d = delim.charCodeAt(0);
  const fields: string[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    if (i < n && text.charCodeAt(i) === QUOTE) {
      let value = '';
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q === -1) return { incomplete: true };
        value += text.slice(j, q);
        if (q + 1 < n && text.charCodeAt(q + 1) === QUOTE) {
          value += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === n) return { fields };
      if (text.charCodeAt(i) !== d)
        return { column: i + 1, message: `unexpected text after a closing quote at column ${i + 1}` };
      i++;
      if (i === n) {
        fields.push('');
        return { fields };
      }
    } else {
      const e = text.indexOf(delim, i);
      if (e === -1) {
        fields.push(text.slice(i));
        return { fields };
      }
      fields.push(text.slice(i, e));
      i = e + 1;
      if (i === n) {
        fields.push('');
        return { fields };
      }
    }
  }
}

type PendingLine = { line: number; text: string; error?: undefined };

export class CsvRowAssembler {
  private readonly delim: string;
  private readonly comments: readonly string[];
  private readonly maxLines: number;
  private readonly maxChars: number;
  /** The lines of an open quoted record, first line first (never empty while set). */
  private pending: [PendingLine, ...PendingLine[]] | undefined;
  private pendingChars = 0;

  constructor(opts: CsvRowOptions = {}) {
    this.delim = opts.delimiter ?? ',';
    if (this.delim.length !== 1 || this.delim === '"' || this.delim === '\n' || this.delim === '\r') {
      throw new TypeError(
        `CSV delimiter must be one character other than a quote or newline, got ${JSON.stringify(this.delim)}`,
      );
    }
    this.comments = opts.commentPrefixes ?? [];
    this.maxLines = opts.maxRecordLines ?? 100;
    this.maxChars = opts.maxRecordChars ?? 1 << 20;
  }

  /** Feeds physical lines; returns the rows they complete. */
  push(records: readonly LineRecord[], out: CsvRow[] = []): CsvRow[] {
    for (const r of records) this.one(r, out);
    return out;
  }

  /** Ends the input: an open quoted record is refused and its swallowed lines parsed again. */
  end(out: CsvRow[] = []): CsvRow[] {
    while (this.pending) {
      const lines = this.pending;
      this.pending = undefined;
      this.pendingChars = 0;
      out.push({ line: lines[0].line, column: undefined, error: 'quote', message: 'quoted field is never closed' });
      for (const l of lines.slice(1)) this.one(l, out);
    }
    return out;
  }

  private isComment(text: string): boolean {
    for (const p of this.comments) if (text.startsWith(p)) return true;
    return false;
  }

  private one(r: LineRecord, out: CsvRow[]): void {
    if (r.error !== undefined) {
      if (this.pending) {
        const start = this.pending[0].line;
        this.pending = undefined;
        this.pendingChars = 0;
        out.push({
          line: start,
          error: r.error,
          message: `record starting at line ${start} holds a bad line ${r.line} (${r.error})`,
        });
        return;
      }
      out.push({
        line: r.line,
        error: r.error,
        message: r.error === 'too_long' ? 'line is too long' : 'line is not valid UTF-8 text (NUL or invalid bytes)',
      });
      return;
    }
    const text: string = r.text;
    if (this.pending) {
      this.pending.push({ line: r.line, text });
      this.pendingChars += text.length + 1;
      const joined = this.pending.map((p) => p.text).join('\n');
      const p = parseCsvLine(joined, this.delim);
      if ('incomplete' in p) {
        if (this.pending.length > this.maxLines || this.pendingChars > this.maxChars) {
          const lines = this.pending;
          this.pending = undefined;
          this.pendingChars = 0;
          out.push({
            line: lines[0].line,
            error: 'quote',
            message: `quoted field is not closed within ${this.maxLines} lines`,
          });
          for (const l of lines.slice(1)) this.one(l, out);
        }
        return;
      }
      const start = this.pending[0].line;
      this.pending = undefined;
      this.pendingChars = 0;
      if ('fields' in p) out.push({ line: start, fields: p.fields });
      else out.push({ line: start, column: p.column, error: 'quote', message: p.message });
      return;
    }
    if (text.length === 0 || (this.comments.length > 0 && this.isComment(text))) return;
    const p = parseCsvLine(text, this.delim);
    if ('fields' in p) {
      if (p.fields.length === 1 && p.fields[0]?.trim() === '') return;
      out.push({ line: r.line, fields: p.fields });
    } else if ('incomplete' in p) {
      this.pending = [{ line: r.line, text }];
      this.pendingChars = text.length;
    } else out.push({ line: r.line, column: p.column, error: 'quote', message: p.message });
  }
}
