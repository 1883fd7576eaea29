/**
 * Hardened XML parsing for hostile feeds: no entity expansion, no external access, no prototype
 * keys, every size limited.
 *
 * Built on `sax`, the streaming parser xml2js itself runs on, rather than on xml2js's object
 * builder: xml2js turns element and attribute names into object keys (so `<__proto__>` becomes a
 * live reference to `Object.prototype`) and can only check limits after the whole tree exists.
 * Here the tree is made of arrays (`children`) and null-prototype attribute maps, limits are
 * checked while streaming, and:
 *
 * - any `<!DOCTYPE` or `<!ENTITY` in the prolog is rejected before the parser sees it, and any
 *   DOCTYPE or SGML declaration sax meets later is rejected too: no DTD, no internal or external
 *   entities, no network or file access, ever;
 * - only the five predefined XML entities and numeric character references are decoded;
 * - document size, element nesting depth, attributes per element, text length per element and
 *   element count are capped;
 * - elements and attributes named `__proto__`, `constructor` or `prototype` (with or without a
 *   namespace prefix) are dropped, subtree included, and counted.
 *
 * Errors are StixgateErrors naming the source, the reason and the line/column.
 */
import { createRequire } from 'node:module';
import { StixgateError, type ErrorCode, type Location } from './errors.js';

export interface XmlElement {
  /** Qualified name as written (`stix:Indicator`). */
  name: string;
  /** Local part (`Indicator`). */
  local: string;
  /** Namespace prefix, '' when none. */
  prefix: string;
  /** Attributes by qualified name; nothing inherited (the prototype chain ends in an empty null-prototype object). */
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated character data (text and CDATA) directly inside this element, untrimmed. */
  text: string;
  /** 1-based line of the start tag. */
  line: number;
}

export interface SafeXmlLimits {
  /** Cap on document bytes (default 64 MiB). */
  maxBytes: number;
  /** Cap on element nesting depth (default 256). */
  maxDepth: number;
  /** Cap on attributes of one element (default 256). */
  maxAttributes: number;
  /** Cap on the text (characters) directly inside one element, and on one attribute value (default 1 MiB). */
  maxTextLength: number;
  /** Cap on the number of elements in the document (default 8 million). */
  maxElements: number;
}

export const DEFAULT_XML_LIMITS: SafeXmlLimits = {
  maxBytes: 64 * 1024 * 1024,
  maxDepth: 256,
  maxAttributes: 256,
  maxTextLength: 1024 * 1024,
  maxElements: 8_000_000,
};

export interface SafeXmlOptions extends Partial<SafeXmlLimits> {
  /** The source id or file name, for messages. */
  name: string;
  /** The document's path or URL, for messages. */
  file?: string;
}

export interface SafeXmlStats {
  bytes: number;
  elements: number;
  /** Elements and attributes dropped because their names could reach object prototypes. */
  droppedKeys: number;
}

export interface SafeXmlResult {
  root: XmlElement;
  stats: SafeXmlStats;
}

/**
 * Attribute maps: objects whose prototype is an empty null-prototype object, so nothing inherited is
 * visible (`attrs.constructor`, `attrs.__proto__` are undefined) while V8 keeps them in fast mode
 * (Object.create(null) objects start as dictionaries, several times larger).
 */
const AttrMap = function AttrMap(this: object) {} as unknown as { new (): Record<string, string>; prototype: object };
AttrMap.prototype = Object.create(null) as object;
const NO_ATTRS: Record<string, string> = Object.freeze(new AttrMap());
const NO_CHILDREN: XmlElement[] = Object.freeze([]) as unknown as XmlElement[];

/** Names that must never become object keys anywhere downstream. */
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * sax builds tag names and attribute values one character at a time (`s += c`): V8 keeps those as
 * ropes of one cons cell per character. Flattening them once (a numeric conversion forces it)
 * divides the retained size of the tree by several times.
 */
function flat(s: string): string {
  void (Number(s) | 0);
  return s;
}

function isBlank(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return false;
  }
  return true;
}

export function isForbiddenXmlName(qname: string): boolean {
  if (qname.length < 9) return false; // shorter than the shortest forbidden name

  const colon = qname.indexOf(':');
  return FORBIDDEN_NAMES.has(colon < 0 ? qname : qname.slice(colon + 1)) || FORBIDDEN_NAMES.has(qname);
}

// sax is the streaming parser xml2js itself wraps (ADR 0011); loaded through createRequire because it is CommonJS
// without bundled type declarations.
interface SaxTag {
  name: string;
  isSelfClosing: boolean;
}
interface SaxParser {
  line: number;
  column: number;
  onerror: (e: Error) => void;
  ontext: (t: string) => void;
  oncdata: (t: string) => void;
  onopentag: (tag: SaxTag) => void;
  onclosetag: (name: string) => void;
  onattribute: (a: { name: string; value: string }) => void;
  ondoctype: (d: string) => void;
  onsgmldeclaration: (d: string) => void;
  write(s: string): SaxParser;
  close(): SaxParser;
}
interface SaxModule {
  parser(strict: boolean, opts: Record<string, unknown>): SaxParser;
}
const sax = createRequire(import.meta.url)('sax') as SaxModule;

/** Feed sax at most this many characters at a time so its internal buffers stay bounded. */
const SLICE = 64 * 1024;
const FORBIDDEN_MARKUP = ['<!DOCTYPE', '<!ENTITY'];
const MARKUP_CARRY = 16;

function fail(code: ErrorCode, reason: string, message: string, loc: Location): never {
  throw new StixgateError(code, message, { reason, location: loc });
}

/**
 * An incremental parser: `write()` chunks (Buffer or string), then `end()` for the tree.
 * Throws a StixgateError at the first violation.
 */
export class SafeXmlParser {
  private readonly limits: SafeXmlLimits;
  private readonly parser: SaxParser;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  private readonly stack: XmlElement[] = [];
  private root: XmlElement | undefined;
  /** Depth inside a dropped (forbidden-name) subtree; 0 when not inside one. */
  private skipDepth = 0;
  private attrs: Record<string, string> = NO_ATTRS;
  private attrCount = 0;
  private textLength = 0;
  private carry = '';
  private prologDone = false;
  private ended = false;
  readonly stats: SafeXmlStats = { bytes: 0, elements: 0, droppedKeys: 0 };

  constructor(private readonly opts: SafeXmlOptions) {
    this.limits = { ...DEFAULT_XML_LIMITS };
    for (const k of Object.keys(DEFAULT_XML_LIMITS) as (keyof SafeXmlLimits)[]) {
      const v = opts[k];
      if (typeof v === 'number' && v > 0) this.limits[k] = v;
    }
    const p = sax.parser(true, { strictEntities: true, position: true, trim: false, normalize: false, xmlns: false });
    this.parser = p;
    p.onerror = (e) => {
      const msg = String(e.message).split('\n')[0];
      fail('STIXGATE_ERR_INPUT_PARSE', 'xml_syntax', `XML is not well-formed: ${msg}`, this.loc());
    };
    p.ondoctype = () => this.rejectDoctype('<!DOCTYPE');
    p.onsgmldeclaration = () => this.rejectDoctype('<!ENTITY');
    p.onattribute = (a) => this.onAttribute(a.name, a.value);
    p.onopentag = (tag) => this.onOpen(tag.name);
    p.onclosetag = () => this.onClose();
    p.ontext = (t) => this.onText(t);
    p.oncdata = (t) => this.onText(t);
  }

  private loc(): Location {
    const l: Location = { source: this.opts.name };
    if (this.opts.file) l.file = this.opts.file;
    l.line = this.parser.line + 1;
    l.column = this.parser.column + 1;
    return l;
  }

  /** `at` is the offset of the markup in `text`, the text about to be fed (the parser has read all before it). */
  private rejectDoctype(what: string, text = '', at = 0): never {
    const loc = this.loc();
    const j = Math.max(0, at);
    const nl = text.lastIndexOf('\n', j - 1);
    if (j > 0 && nl >= 0) {
      let lines = 0;
      for (let k = text.indexOf('\n'); k >= 0 && k < j; k = text.indexOf('\n', k + 1)) lines++;
      loc.line = (loc.line ?? 1) + lines;
      loc.column = j - nl;
    } else loc.column = (loc.column ?? 1) + j;
    fail(
      'STIXGATE_ERR_INPUT_PARSE',
      'xml_doctype',
      `XML rejected: ${what} declarations are not allowed (no DTD, entity or external reference processing)`,
      loc,
    );
  }

  private onAttribute(name: string, value: string): void {
    this.attrCount++;
    if (this.attrCount > this.limits.maxAttributes) {
      fail(
        'STIXGATE_ERR_INPUT_TOO_LARGE',
        'xml_attributes',
        `XML element has more than ${this.limits.maxAttributes} attributes`,
        this.loc(),
      );
    }
    if (value.length > this.limits.maxTextLength) {
      fail(
        'STIXGATE_ERR_INPUT_TOO_LARGE',
        'xml_text',
        `XML attribute value longer than ${this.limits.maxTextLength} characters`,
        this.loc(),
      );
    }
    if (isForbiddenXmlName(name)) {
      this.stats.droppedKeys++;
      return;
    }
    if (this.attrs === NO_ATTRS) this.attrs = new AttrMap();
    this.attrs[flat(name)] = flat(value);
  }

  private onOpen(name: string): void {
    const attrs = this.attrs;
    this.attrs = NO_ATTRS;
    this.attrCount = 0;
    this.stats.elements++;
    if (this.stats.elements > this.limits.maxElements) {
      fail(
        'STIXGATE_ERR_INPUT_TOO_LARGE',
        'xml_elements',
        `XML document has more than ${this.limits.maxElements} elements`,
        this.loc(),
      );
    }
    const depth = this.stack.length + this.skipDepth + 1;
    if (depth > this.limits.maxDepth) {
      fail(
        'STIXGATE_ERR_INPUT_TOO_LARGE',
        'xml_depth',
        `XML nesting deeper than ${this.limits.maxDepth} elements`,
        this.loc(),
      );
    }
    if (this.skipDepth > 0) {
      this.skipDepth++;
      return;
    }
    if (isForbiddenXmlName(name)) {
      this.stats.droppedKeys++;
      this.skipDepth = 1;
      return;
    }
    flat(name);
    const colon = name.indexOf(':');
    const el: XmlElement = {
      name,
      local: colon < 0 ? name : name.slice(colon + 1),
      prefix: colon < 0 ? '' : name.slice(0, colon),
      attrs,
      children: NO_CHILDREN,
      text: '',
      line: this.parser.line + 1,
    };
    const parent = this.stack[this.stack.length - 1];
    if (parent) {
      if (parent.children === NO_CHILDREN) parent.children = [];
      parent.children.push(el);
    } else if (!this.root) this.root = el;
    this.stack.push(el);
    this.textLength = 0;
  }

  private onClose(): void {
    if (this.skipDepth > 0) {
      this.skipDepth--;
      return;
    }
    this.stack.pop();
    const top = this.stack[this.stack.length - 1];
    this.textLength = top ? top.text.length : 0;
  }

  private onText(t: string): void {
    if (this.skipDepth > 0) return;
    const top = this.stack[this.stack.length - 1];
    if (!top) return; // whitespace outside the root (sax rejects anything else)
    // Indentation between child elements is not content: skip it (keeps the tree small).
    if (top.children.length > 0 && top.text.length === 0 && isBlank(t)) return;
    this.textLength += t.length;
    if (this.textLength > this.limits.maxTextLength) {
      fail(
        'STIXGATE_ERR_INPUT_TOO_LARGE',
        'xml_text',
        `XML text node longer than ${this.limits.maxTextLength} characters`,
        this.loc(),
      );
    }
    top.text = flat(top.text.length === 0 ? t : top.text + t);
  }

  private feed(text: string): void {
    if (text.length === 0) return;
    if (!this.prologDone) {
      // Reject DTD markup in the prolog (the only place XML allows it) before the parser sees it,
      // across chunk boundaries too. After the root element starts, `<!DOCTYPE` / `<!ENTITY` can
      // only be character data (CDATA, comments: legitimate, e.g. HTML in a description) or markup
      // that sax reports through ondoctype / onsgmldeclaration, which reject it as well.
      const scan = this.carry + text;
      let end = scan.length;
      for (let i = scan.indexOf('<'); i >= 0 && i < scan.length - 1; i = scan.indexOf('<', i + 1)) {
        const c = scan.charCodeAt(i + 1);
        if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 58) {
          end = i;
          this.prologDone = true;
          break;
        }
      }
      const prolog = scan.slice(0, end);
      for (let i = prolog.indexOf('<!'); i >= 0; i = prolog.indexOf('<!', i + 2)) {
        const head = scan.slice(i, i + 9).toUpperCase();
        for (const m of FORBIDDEN_MARKUP) if (head.startsWith(m)) this.rejectDoctype(m, text, i - this.carry.length);
      }
      this.carry = this.prologDone ? '' : scan.slice(-MARKUP_CARRY);
    }
    for (let i = 0; i < text.length; i += SLICE)
      this.parser.write(i === 0 && text.length <= SLICE ? text : text.slice(i, i + SLICE));
  }

  write(chunk: Buffer | string): void {
    if (this.ended) throw new Error('SafeXmlParser: write after end');
    const len = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    this.stats.bytes += len;
    if (this.stats.bytes > this.limits.maxBytes) {
      fail('STIXGATE_ERR_INPUT_TOO_LARGE', 'xml_size', `XML document larger than ${this.limits.maxBytes} bytes`, {
        source: this.opts.name,
        ...(this.opts.file ? { file: this.opts.file } : {}),
      });
    }
    let text: string;
    if (typeof chunk === 'string') text = chunk;
    else {
      try {
        text = this.decoder.decode(chunk, { stream: true });
      } catch (e) {
        throw new StixgateError('STIXGATE_ERR_INPUT_ENCODING', 'XML document is not valid UTF-8', {
          reason: 'encoding',
          location: this.loc(),
          cause: e,
        });
      }
    }
    this.feed(text);
  }

  end(): SafeXmlResult {
    if (!this.ended) {
      this.ended = true;
      let rest = '';
      try {
        rest = this.decoder.decode();
      } catch (e) {
        throw new StixgateError('STIXGATE_ERR_INPUT_ENCODING', 'XML document is not valid UTF-8', {
          reason: 'encoding',
          location: this.loc(),
          cause: e,
        });
      }
      this.feed(rest);
      if (this.stats.bytes === 0 || !this.root) {
        if (this.stats.bytes === 0) {
          throw new StixgateError('STIXGATE_ERR_INPUT_EMPTY', 'empty document', {
            reason: 'empty',
            location: { source: this.opts.name, ...(this.opts.file ? { file: this.opts.file } : {}) },
          });
        }
      }
      this.parser.close();
    }
    if (!this.root) fail('STIXGATE_ERR_INPUT_PARSE', 'xml_syntax', 'XML document has no root element', this.loc());
    return { root: this.root, stats: this.stats };
  }
}

/** Parses a whole document held in memory. */
export function parseXmlString(text: string | Buffer, opts: SafeXmlOptions): SafeXmlResult {
  const p = new SafeXmlParser(opts);
  p.write(text);
  return p.end();
}

/** Parses a streamed document (e.g. `openInput(...).body`). */
export async function parseXmlStream(
  body: AsyncIterable<Buffer | string>,
  opts: SafeXmlOptions,
): Promise<SafeXmlResult> {
  const p = new SafeXmlParser(opts);
  for await (const chunk of body) p.write(chunk);
  return p.end();
}

// ---------------------------------------------------------------------------------------------
// Navigation helpers used by the XML mappers (namespace prefixes are ignored: STIX and OpenIOC
// documents use many prefixes for one namespace, and local names are unambiguous within them).

/** The first child with this local name. */
export function child(el: XmlElement | undefined, local: string): XmlElement | undefined {
  if (!el) return undefined;
  for (const c of el.children) if (c.local === local) return c;
  return undefined;
}

/** All children with this local name. */
export function childrenNamed(el: XmlElement | undefined, local: string): XmlElement[] {
  if (!el) return [];
  return el.children.filter((c) => c.local === local);
}

/** Follows a path of local names through first children. */
export function path(el: XmlElement | undefined, ...locals: string[]): XmlElement | undefined {
  let cur = el;
  for (const l of locals) cur = child(cur, l);
  return cur;
}

/** Trimmed text of the child (or path), undefined when absent or empty. */
export function textOf(el: XmlElement | undefined, ...locals: string[]): string | undefined {
  const e = locals.length ? path(el, ...locals) : el;
  if (!e) return undefined;
  const t = e.text.trim();
  return t.length ? t : undefined;
}

/** An attribute by local name (any prefix). */
export function attr(el: XmlElement | undefined, local: string): string | undefined {
  if (!el) return undefined;
  const direct = el.attrs[local];
  if (direct !== undefined) return direct;
  for (const k in el.attrs) {
    const colon = k.indexOf(':');
    if (colon >= 0 && k.slice(colon + 1) === local) return el.attrs[k];
  }
  return undefined;
}

/** The local part of an `xsi:type` value (`AddressObj:AddressObjectType` → `AddressObjectType`). */
export function xsiType(el: XmlElement | undefined): string | undefined {
  if (!el) return undefined;
  let t = el.attrs['xsi:type'];
  if (t === undefined) {
    for (const k in el.attrs) if (k.endsWith(':type')) t = el.attrs[k];
  }
  if (t === undefined) return undefined;
  const colon = t.indexOf(':');
  return colon < 0 ? t : t.slice(colon + 1);
}
