/**
 * Reads XML feed documents for the STIX 1.x and OpenIOC sources: one document (a file or a URL,
 * through `openRunInput`), or a directory of documents (`file:///dir/`: every file with one of the
 * given extensions, sorted by name, one page per file).
 *
 * A directory's cursor is a SHA-256 over the names, mtimes and sizes of its files: an unchanged
 * directory is skipped, a changed one is read again (ids are deterministic, so re-reading a file
 * changes nothing in the store).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StixgateError } from '../core/errors.js';
import { parseXmlStream, type SafeXmlLimits, type SafeXmlStats, type XmlElement } from '../core/safe-xml.js';
import { stixTime } from '../core/stix.js';
import { openRunInput, PageBuilder, parseInputCursor } from '../pipeline/input.js';
import type { Page, Source, SourceRunContext } from '../pipeline/types.js';

export interface XmlDocument {
  /** The file path or URL. */
  location: string;
  root: XmlElement;
  stats: SafeXmlStats;
  /** A stable time for the document (file mtime, HTTP Last-Modified), else the run's time. */
  time: string;
}

export type XmlReadEvent =
  | {
      kind: 'document';
      doc: XmlDocument /** Cursor to commit after this document's last page (set on the last document). */;
      cursor?: string;
    }
  /** A document of a directory that failed to parse: reported as a rejection, the other files go on. */
  | { kind: 'failed'; location: string; error: StixgateError; cursor?: string };

export interface XmlReadOptions {
  url: string;
  maxBytes: number;
  limits: Partial<SafeXmlLimits>;
  /** File name endings read from a directory (e.g. `.xml`, `.ioc`). */
  extensions: readonly string[];
  accept: string[];
}

function localPath(url: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'file') return fileURLToPath(url);
  if (scheme === undefined) return resolve(url);
  return undefined;
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Yields the documents of one run. Single documents throw on parse errors; directory members are reported. */
export async function* readXmlDocuments(o: XmlReadOptions, ctx: SourceRunContext): AsyncGenerator<XmlReadEvent> {
  const dir = localPath(o.url);
  if (dir !== undefined && (await isDirectory(dir))) {
    yield* readDirectory(dir, o, ctx);
    return;
  }
  const doc = await openRunInput(o.url, ctx, { maxBytes: o.maxBytes, accept: o.accept });
  if (doc.notModified) return;
  const { root, stats } = await parseXmlStream(doc.body, {
    ...o.limits,
    maxBytes: o.maxBytes,
    name: ctx.id,
    file: doc.location,
  });
  const c = parseInputCursor(doc.cursor);
  const t = c.mtime_ms ?? (c.last_modified ? Date.parse(c.last_modified) : Number.NaN);
  yield {
    kind: 'document',
    doc: { location: doc.location, root, stats, time: stixTime(Number.isFinite(t) ? t : ctx.now) },
    cursor: doc.cursor,
  };
}

async function* readDirectory(dir: string, o: XmlReadOptions, ctx: SourceRunContext): AsyncGenerator<XmlReadEvent> {
  const names = (await readdir(dir)).filter((n) => o.extensions.some((e) => n.toLowerCase().endsWith(e))).sort();
  const files: { path: string; size: number; mtime: number }[] = [];
  const h = createHash('sha256');
  for (const n of names) {
    const p = join(dir, n);
    const st = await stat(p);
    if (!st.isFile()) continue;
    files.push({ path: p, size: st.size, mtime: Math.trunc(st.mtimeMs) });
    h.update(`${n}\0${Math.trunc(st.mtimeMs)}\0${st.size}\n`);
  }
  const cursor = JSON.stringify({ dir_sha256: h.digest('hex'), files: files.length });
  if (!ctx.full && ctx.cursor === cursor) return;
  if (files.length === 0) {
    yield {
      kind: 'failed',
      location: dir,
      error: new StixgateError('STIXGATE_ERR_INPUT_EMPTY', `no ${o.extensions.join('/')} files in ${dir}`, {
        reason: 'empty',
        location: { source: ctx.id, file: dir },
      }),
      cursor,
    };
    return;
  }
  for (const [i, f] of files.entries()) {
    const last = i === files.length - 1 ? cursor : undefined;
    if (f.size > o.maxBytes) {
      yield {
        kind: 'failed',
        location: f.path,
        error: new StixgateError(
          'STIXGATE_ERR_INPUT_TOO_LARGE',
          `document exceeds max_feed_bytes (${o.maxBytes} bytes)`,
          { reason: 'too_large', location: { source: ctx.id, file: f.path } },
        ),
        cursor: last,
      };
      continue;
    }
    try {
      const { root, stats } = await parseXmlStream(
        createReadStream(f.path, { highWaterMark: 1 << 16, signal: ctx.signal }) as AsyncIterable<Buffer>,
        {
          ...o.limits,
          maxBytes: o.maxBytes,
          name: ctx.id,
          file: f.path,
        },
      );
      yield { kind: 'document', doc: { location: f.path, root, stats, time: stixTime(f.mtime) }, cursor: last };
    } catch (e) {
      if (!(e instanceof StixgateError)) throw e;
      yield { kind: 'failed', location: f.path, error: e, cursor: last };
    }
  }
}

export function xmlLimits(config: {
  xml_max_depth: number;
  xml_max_attributes: number;
  xml_max_text_chars: number;
  xml_max_elements: number;
}): Partial<SafeXmlLimits> {
  return {
    maxDepth: config.xml_max_depth,
    maxAttributes: config.xml_max_attributes,
    maxTextLength: config.xml_max_text_chars,
    maxElements: config.xml_max_elements,
  };
}

/**
 * Turns mapped documents into pages: a document's objects are split into pages of `pageSize`;
 * the cursor rides on the last page of the last document. A directory member that fails to parse
 * becomes a rejection; a single document that fails to parse throws (nothing is committed).
 */
export async function* xmlPages(
  events: AsyncIterable<XmlReadEvent>,
  pageSize: number,
  mapDoc: (e: Extract<XmlReadEvent, { kind: 'document' }>) => MappedDocument,
): AsyncGenerator<Page> {
  for await (const e of events) {
    const pb = new PageBuilder(pageSize);
    if (e.kind === 'failed') {
      pb.record();
      pb.reject({ reason: e.error.reason, message: e.error.message, location: e.error.location });
      yield pb.take(e.cursor);
      continue;
    }
    const r = mapDoc(e);
    for (const it of r.items) {
      pb.record();
      pb.add(it);
      if (pb.full) yield pb.take();
    }
    for (const rej of r.rejections) {
      pb.record();
      pb.reject(rej);
    }
    yield pb.take(e.cursor);
  }
}

/** A mapped document: the items and rejections of its pages. */
export type MappedDocument = { items: Page['items']; rejections: Page['rejections'] };

/** What an XML source's configuration holds: the feed, its size cap and the parser limits. */
export type XmlSourceConfig = { url: string; max_feed_bytes: number } & Parameters<typeof xmlLimits>[0];

/**
 * A source of XML feed documents: every document at `config.url` (readXmlDocuments) mapped by
 * `mapDoc` and split into pages of `format.pageSize` (xmlPages).
 */
export function xmlDocumentSource(
  config: XmlSourceConfig,
  format: { extensions: readonly string[]; accept: string[]; pageSize: number },
  mapDoc: (doc: XmlDocument, ctx: SourceRunContext) => MappedDocument,
): Source {
  return {
    pages(ctx: SourceRunContext): AsyncIterable<Page> {
      const events = readXmlDocuments(
        {
          url: config.url,
          maxBytes: config.max_feed_bytes,
          limits: xmlLimits(config),
          extensions: format.extensions,
          accept: format.accept,
        },
        ctx,
      );
      return xmlPages(events, format.pageSize, ({ doc }) => mapDoc(doc, ctx));
    },
  };
}
