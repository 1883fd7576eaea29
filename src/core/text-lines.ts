import { isUtf8 } from 'node:buffer';
import { StixgateError } from './errors.js';

/**
 * Streaming line splitter for text feeds. Works on bytes so that a line can be refused for its
 * length without ever being held in memory, and so that bad bytes (NUL, invalid UTF-8) reject
 * only the line that holds them.
 */

export type LineRecord =
  | { line: number; text: string; error?: undefined }
  | { line: number; error: 'too_long' | 'encoding'; text?: undefined };

export interface SplitLinesOptions {
  /** Longest line accepted, in bytes (default 64 KiB). Longer lines are skipped while streaming. */
  maxLineBytes?: number;
  /**
   * Refuse the whole document as binary when NUL bytes (3 or more) appear in its first this-many bytes
   * (default 4096; 0 disables). Throws STIXGATE_ERR_INPUT_ENCODING.
   */
  binaryCheckBytes?: number;
  /** Names the input in errors. */
  name?: string;
}

const NL = 0x0a;
const CR = 0x0d;

/**
 * True when the first `n` bytes of `buf` hold 3 or more NUL bytes: the document is binary, not
 * text. A stray NUL or two only rejects the lines that hold them.
 */
export function looksBinary(buf: Buffer, n = 4096): boolean {
  let count = 0;
  let i = buf.indexOf(0);
  while (i !== -1 && i < n) {
    if (++count >= 3) return true;
    i = buf.indexOf(0, i + 1);
  }
  return false;
}

/**
 * Splits a byte stream into lines, one array of records per input chunk. Lines are numbered from
 * 1; a trailing `\r` is dropped; a UTF-8 BOM at the start is dropped.
 */
export async function* splitLines(
  body: AsyncIterable<Buffer>,
  opts: SplitLinesOptions = {},
): AsyncGenerator<LineRecord[]> {
  const max = opts.maxLineBytes ?? 65536;
  const headBytes = opts.binaryCheckBytes ?? 4096;
  let lineNo = 0;
  let carry: Buffer[] = [];
  let carryLen = 0;
  let skipping = false;
  let started = false;
  let head: Buffer[] | undefined = headBytes > 0 ? [] : undefined;
  let headLen = 0;

  const decode = (b: Buffer): LineRecord => {
    lineNo++;
    let end = b.length;
    if (end > 0 && b[end - 1] === CR) end--;
    if (end > max) return { line: lineNo, error: 'too_long' };
    const v = end === b.length ? b : b.subarray(0, end);
    if (v.indexOf(0) !== -1 || !isUtf8(v)) return { line: lineNo, error: 'encoding' };
    return { line: lineNo, text: v.toString('utf8') };
  };

  const process = (buf: Buffer): LineRecord[] => {
    const out: LineRecord[] = [];
    if (!started) {
      started = true;
      if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    const first = buf.indexOf(NL);
    if (first === -1) {
      if (!skipping) {
        carry.push(buf);
        carryLen += buf.length;
        if (carryLen > max + 1) {
          skipping = true;
          carry = [];
          carryLen = 0;
        }
      }
      return out;
    }
    // The line that started in an earlier chunk.
    if (skipping) {
      lineNo++;
      out.push({ line: lineNo, error: 'too_long' });
      skipping = false;
    } else {
      const part = buf.subarray(0, first);
      out.push(decode(carryLen > 0 ? Buffer.concat([...carry, part]) : part));
    }
    carry = [];
    carryLen = 0;
    const last = buf.lastIndexOf(NL);
    if (last > first) {
      const region = buf.subarray(first + 1, last);
      if (region.indexOf(0) === -1 && isUtf8(region)) {
        // Fast path: the whole region is clean text.
        const lines = region.toString('utf8').split('\n');
        for (let l of lines) {
          lineNo++;
          if (l.length > 0 && l.charCodeAt(l.length - 1) === CR) l = l.slice(0, -1);
          if (l.length * 3 > max && Buffer.byteLength(l) > max) out.push({ line: lineNo, error: 'too_long' });
          else out.push({ line: lineNo, text: l });
        }
      } else {
        let s = 0;
        while (s <= region.length) {
          let e = region.indexOf(NL, s);
          if (e === -1) e = region.length;
          out.push(decode(region.subarray(s, e)));
          s = e + 1;
        }
      }
    }
    const rest = buf.subarray(last + 1);
    if (rest.length > max + 1) skipping = true;
    else if (rest.length > 0) {
      carry.push(rest);
      carryLen = rest.length;
    }
    return out;
  };

  const checkHead = (): Buffer => {
    if (head === undefined) throw new RangeError('the head of the input was checked already');
    const all = Buffer.concat(head);
    head = undefined;
    if (looksBinary(all, headBytes)) {
      throw new StixgateError(
        'STIXGATE_ERR_INPUT_ENCODING',
        'document looks binary (NUL bytes near the start), not a text list',
        {
          reason: 'encoding',
          location: opts.name ? { source: opts.name } : undefined,
        },
      );
    }
    return all;
  };

  for await (const chunk of body) {
    if (head) {
      head.push(chunk);
      headLen += chunk.length;
      if (headLen < headBytes) continue;
      const out = process(checkHead());
      if (out.length) yield out;
      continue;
    }
    const out = process(chunk);
    if (out.length) yield out;
  }
  if (head) {
    const out = process(checkHead());
    if (out.length) yield out;
  }
  if (skipping) {
    lineNo++;
    yield [{ line: lineNo, error: 'too_long' }];
  } else if (carryLen > 0) {
    yield [decode(Buffer.concat(carry))];
  }
}
