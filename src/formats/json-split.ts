import { isUtf8 } from 'node:buffer';
import { StixgateError } from '../core/errors.js';

/**
 * A streaming splitter for STIX bundles. It scans bytes, never the whole document as one string:
 * finds the top-level `"objects"` array of a bundle (or takes a bare array of objects, or one
 * single object) and cuts it into the texts of its top-level elements by counting brackets
 * outside strings. Chunk boundaries may fall anywhere, including inside a UTF-8 sequence or an
 * escape: bytes are kept until the element ends, and only then decoded.
 *
 * Elements over `maxObjectBytes` are skipped without being buffered; elements nested deeper than
 * `maxDepth` are refused. Both become per-object events; the scan goes on.
 */

export type SplitEvent =
  | { kind: 'object'; index: number; text: string; depth: number; members?: number }
  | { kind: 'error'; index: number; reason: 'too_large' | 'too_deep' | 'not_object' | 'encoding'; message: string };

export interface SplitOptions {
  maxObjectBytes: number;
  maxDepth: number;
  name?: string;
  /** The root key whose array holds the elements (default `objects`). */
  arrayKey?: string;
}

// biome-ignore lint/suspicious/noConstEnum: file-local and never exported, so tsc and esbuild both inline its members
const enum Mode {
  Start,
  Root,
  Array,
  Elem,
  Skip,
  RootAfter,
  Trailing,
}

const LBRACE = 0x7b,
  RBRACE = 0x7d,
  LBRACK = 0x5b,
  RBRACK = 0x5d,
  QUOTE = 0x22,
  BSLASH = 0x5c,
  COLON = 0x3a,
  COMMA = 0x2c;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export class ObjectSplitter {
  private mode = Mode.Start;
  private depth = 0;
  private inString = false;
  private escape = false;
  private index = 0;
  private bare = false;
  // element being read
  private parts: Buffer[] = [];
  private size = 0;
  private maxSeen = 0;
  /** Colons outside strings in the current array element (its object members); -1 when not counted. */
  private members = -1;
  private oversize = false;
  // root object (kept only until its "objects" key, to serve a single object)
  private rootParts: Buffer[] = [];
  private rootSize = 0;
  private rootOversize = false;
  private keyBytes: number[] | undefined;
  private lastString: string | undefined;
  private currentKey: string | undefined;
  /** Top-level `spec_version` of the bundle, when it precedes `objects`. */
  bundleSpecVersion: string | undefined;
  private specCapture = false;

  constructor(private readonly opts: SplitOptions) {}

  private fail(message: string, reason = 'parse'): StixgateError {
    return new StixgateError('STIXGATE_ERR_INPUT_PARSE', message, {
      reason,
      location: { source: this.opts.name, index: this.index },
    });
  }

  push(chunk: Buffer, out: SplitEvent[]): void {
    const buf = chunk;
    const n = buf.length;
    let elemStart = this.mode === Mode.Elem ? 0 : -1;
    let rootStart = this.mode === Mode.Root ? 0 : -1;
    for (let i = 0; i < n; i++) {
      const c = buf[i]!; // i < buf.length
      switch (this.mode) {
        case Mode.Elem:
        case Mode.Skip: {
          if (this.inString) {
            if (this.escape) this.escape = false;
            else if (c === BSLASH) this.escape = true;
            else if (c === QUOTE) this.inString = false;
            continue;
          }
          if (c === QUOTE) this.inString = true;
          else if (c === COLON) this.members++;
          else if (c === LBRACE || c === LBRACK) {
            if (++this.depth > this.maxSeen) this.maxSeen = this.depth;
          } else if (c === RBRACE || c === RBRACK) {
            if (--this.depth === 0 && this.mode === Mode.Elem) {
              this.finishElem(buf, elemStart, i + 1, out);
              elemStart = -1;
              this.mode = Mode.Array;
            } else if (this.depth < 0) {
              // a scalar element ended by the array's closing bracket
              this.depth = 0;
              out.push({
                kind: 'error',
                index: this.index++,
                reason: 'not_object',
                message: 'array element is not a JSON object',
              });
              this.endArray();
            }
          } else if (this.mode === Mode.Skip && this.depth === 0 && c === COMMA) {
            out.push({
              kind: 'error',
              index: this.index++,
              reason: 'not_object',
              message: 'array element is not a JSON object',
            });
            this.mode = Mode.Array;
          }
          continue;
        }
        case Mode.Array: {
          if (isWs(c) || c === COMMA) continue;
          if (c === LBRACE) {
            this.mode = Mode.Elem;
            this.depth = 1;
            this.maxSeen = 1;
            this.members = 0;
            this.size = 0;
            this.parts = [];
            this.oversize = false;
            elemStart = i;
          } else if (c === RBRACK) this.endArray();
          else {
            this.mode = Mode.Skip;
            this.depth = 0;
            this.maxSeen = 0;
            if (c === QUOTE) this.inString = true;
            else if (c === LBRACK) this.depth = this.maxSeen = 1;
          }
          continue;
        }
        case Mode.Root:
        case Mode.RootAfter: {
          if (this.inString) {
            if (this.escape) this.escape = false;
            else if (c === BSLASH) this.escape = true;
            else if (c === QUOTE) {
              this.inString = false;
              if (this.keyBytes) {
                this.lastString = Buffer.from(this.keyBytes).toString('utf8');
                this.keyBytes = undefined;
                if (this.specCapture) {
                  this.bundleSpecVersion = this.lastString;
                  this.specCapture = false;
                }
              }
            } else if (this.keyBytes && this.keyBytes.length < 64) this.keyBytes.push(c);
            continue;
          }
          if (c === QUOTE) {
            this.inString = true;
            if (this.depth === 1) this.keyBytes = [];
          } else if (c === COLON && this.depth === 1) {
            this.currentKey = this.lastString;
            if (this.currentKey === 'spec_version') this.specCapture = true;
          } else if (c === COMMA && this.depth === 1) {
            this.currentKey = undefined;
            this.specCapture = false;
          } else if (
            c === LBRACK &&
            this.depth === 1 &&
            this.currentKey === (this.opts.arrayKey ?? 'objects') &&
            this.mode === Mode.Root
          ) {
            this.mode = Mode.Array;
            this.rootParts = [];
            this.rootSize = 0;
            rootStart = -1;
          } else if (c === LBRACE || c === LBRACK) {
            if (++this.depth > this.maxSeen) this.maxSeen = this.depth;
          } else if (c === RBRACE || c === RBRACK) {
            if (--this.depth === 0) {
              if (this.mode === Mode.Root) {
                // no "objects" array: the document is one object
                this.members = -1;
                this.parts = this.rootParts;
                this.size = this.rootSize;
                this.oversize = this.rootOversize;
                this.rootParts = [];
                this.finishElem(buf, rootStart, i + 1, out);
                rootStart = -1;
              }
              this.mode = Mode.Trailing;
            }
          }
          continue;
        }
        case Mode.Start: {
          // whitespace, and the bytes of a UTF-8 BOM (which may be split across chunks)
          if (isWs(c) || c === 0xef || c === 0xbb || c === 0xbf) continue;
          if (c === LBRACK) {
            this.bare = true;
            this.mode = Mode.Array;
          } else if (c === LBRACE) {
            this.mode = Mode.Root;
            this.depth = 1;
            this.maxSeen = 1;
            rootStart = i;
          } else throw this.fail('document is not a JSON object or array');
          continue;
        }
        case Mode.Trailing: {
          if (!isWs(c)) throw this.fail('unexpected data after the end of the document');
          continue;
        }
      }
    }
    if (this.mode === Mode.Elem && elemStart >= 0) this.keep(buf.subarray(elemStart));
    if (this.mode === Mode.Root && rootStart >= 0) {
      const part = buf.subarray(rootStart);
      this.rootSize += part.length;
      if (this.rootSize > this.opts.maxObjectBytes) {
        this.rootOversize = true;
        this.rootParts = [];
      } else this.rootParts.push(part);
    }
  }

  private endArray(): void {
    this.mode = this.bare ? Mode.Trailing : Mode.RootAfter;
    this.depth = 1;
  }

  private keep(part: Buffer): void {
    if (this.oversize) return;
    this.size += part.length;
    if (this.size > this.opts.maxObjectBytes) {
      this.oversize = true;
      this.parts = [];
    } else this.parts.push(part);
  }

  private finishElem(buf: Buffer, start: number, end: number, out: SplitEvent[]): void {
    this.keep(buf.subarray(Math.max(start, 0), end));
    const index = this.index++;
    if (this.oversize) {
      out.push({
        kind: 'error',
        index,
        reason: 'too_large',
        message: `object larger than ${this.opts.maxObjectBytes} bytes`,
      });
    } else if (this.maxSeen > this.opts.maxDepth) {
      out.push({
        kind: 'error',
        index,
        reason: 'too_deep',
        message: `object nested deeper than ${this.opts.maxDepth} levels`,
      });
    } else {
      const [only] = this.parts;
      const bytes = this.parts.length === 1 && only ? only : Buffer.concat(this.parts);
      if (!isUtf8(bytes)) out.push({ kind: 'error', index, reason: 'encoding', message: 'object is not valid UTF-8' });
      else
        out.push({
          kind: 'object',
          index,
          text: bytes.toString('utf8'),
          depth: this.maxSeen,
          ...(this.members >= 0 ? { members: this.members } : {}),
        });
    }
    this.parts = [];
    this.size = 0;
    this.oversize = false;
  }

  /** Ends the input; throws on an empty or truncated document. */
  end(): void {
    if (this.mode === Mode.Start) {
      throw new StixgateError('STIXGATE_ERR_INPUT_EMPTY', 'empty document', {
        reason: 'empty',
        location: { source: this.opts.name },
      });
    }
    if (this.mode !== Mode.Trailing)
      throw this.fail('document is truncated (JSON ends inside the objects array or an object)', 'truncated');
  }
}

/** The events of a whole byte stream, in order (the splitter's `end()` checks for truncation). */
export async function* splitStream(body: AsyncIterable<Buffer>, splitter: ObjectSplitter): AsyncGenerator<SplitEvent> {
  const events: SplitEvent[] = [];
  for await (const chunk of body) {
    events.length = 0;
    splitter.push(chunk, events);
    yield* events;
  }
  splitter.end();
}
