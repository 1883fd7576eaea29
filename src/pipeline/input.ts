import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { StixgateError } from '../core/errors.js';
import type { Rejection } from '../core/errors.js';
import type { HttpClient } from '../http/types.js';
import { redactUrl } from '../http/ssrf.js';
import type { DocumentGuard } from './poison.js';
import type { CommonSourceConfig, MappedItem, Page, SourceRunContext } from './types.js';
import { spool } from './spool.js';
import { errorCode, isRecord } from '../core/guards.js';

/**
 * Opens a feed document (`file://`, a bare path, or `http(s)://`) as a capped byte stream. An
 * http(s) document is downloaded completely (spooled) before its bytes are handed out, so a
 * transfer that fails yields no page at all.
 *
 * The cursor is a small JSON text: the HTTP validators (ETag, Last-Modified) or the file's size
 * and mtime, plus the SHA-256 of the content, computed while streaming. It is known only once the
 * body has been read to the end: sources set it on their LAST page.
 */

export interface InputDocument {
  /** True when the document is unchanged since the cursor (HTTP 304, or same file size and mtime). */
  notModified: boolean;
  /** The document's bytes (gunzipped when gzip), capped at `maxBytes`. Consume once. */
  body: AsyncIterable<Buffer>;
  /** Where the document came from (final URL or file path), for messages. */
  location: string;
  /** The cursor to commit after the last page; undefined until the body has been read to the end. */
  readonly cursor: string | undefined;
  /** After the end: true when the content hash equals the previous cursor's. */
  readonly sameContent: boolean;
}

export interface OpenInputOptions {
  http?: HttpClient;
  signal?: AbortSignal;
  maxBytes: number;
  accept?: string[];
  /** The previous cursor, for conditional requests. */
  cursor?: string;
  /** Ignore the previous cursor's validators (`--full`). */
  full?: boolean;
  /** The source id (or file name), for messages. */
  name: string;
  /** Folder for spooled downloads (default: the system's temporary folder). */
  spoolDir?: string;
  /**
   * Undated formats (text lists, CSV): the run's time (epoch ms) and how long an unchanged
   * document may go unread. Once the last full read is older, the document is read again even
   * when unchanged, so that the values it still lists are seen at the poll time (the time model,
   * docs/scoring.md §2.1). The cursor records the read time as `read_at`.
   */
  relist?: { now: number; afterMs: number };
  /** Poison-document tracking: told about each document before its first byte is mapped. */
  guard?: DocumentGuard;
}

export interface InputCursor {
  etag?: string;
  last_modified?: string;
  size?: number;
  mtime_ms?: number;
  sha256?: string;
  /** When the document was last read in full (epoch ms; `relist` only). */
  read_at?: number;
}

/** True when the previous cursor's validators may skip the read (not `--full`, not due for a relist). */
function conditional(opts: OpenInputOptions, prev: InputCursor): boolean {
  if (opts.full) return false;
  if (!opts.relist) return true;
  return prev.read_at !== undefined && opts.relist.now - prev.read_at < opts.relist.afterMs;
}

export function parseInputCursor(cursor: string | undefined): InputCursor {
  if (!cursor) return {};
  try {
    const v: unknown = JSON.parse(cursor);
    if (isRecord(v)) {
      const o = v;
      const out: InputCursor = {};
      if (typeof o.etag === 'string') out.etag = o.etag;
      if (typeof o.last_modified === 'string') out.last_modified = o.last_modified;
      if (typeof o.size === 'number') out.size = o.size;
      if (typeof o.mtime_ms === 'number') out.mtime_ms = o.mtime_ms;
      if (typeof o.sha256 === 'string') out.sha256 = o.sha256;
      if (typeof o.read_at === 'number') out.read_at = o.read_at;
      return out;
    }
  } catch {
    // An unreadable cursor means "no cursor": the document is fetched in full.
  }
  return {};
}

function tooLarge(name: string, maxBytes: number, what = 'document'): StixgateError {
  return new StixgateError('STIXGATE_ERR_INPUT_TOO_LARGE', `${what} exceeds max_feed_bytes (${maxBytes} bytes)`, {
    reason: 'too_large',
    location: { source: name },
  });
}

/**
 * Opens the document of a source run: `url` with the run's HTTP client, signal, cursor, `--full`
 * and poison-document guard. `relistAfterMs` is for undated formats (see `relist`).
 */
export function openRunInput(
  url: string,
  ctx: SourceRunContext,
  o: { maxBytes: number; accept: string[]; relistAfterMs?: number },
): Promise<InputDocument> {
  const opts: OpenInputOptions = {
    http: ctx.http,
    signal: ctx.signal,
    maxBytes: o.maxBytes,
    cursor: ctx.cursor,
    full: ctx.full,
    name: ctx.id,
    guard: ctx.documents,
    accept: o.accept,
  };
  if (o.relistAfterMs !== undefined) opts.relist = { now: ctx.now, afterMs: o.relistAfterMs };
  return openInput(url, opts);
}

/** Caps, gunzips (on gzip magic bytes), hashes and checks for emptiness. */
async function* decodeBody(
  raw: AsyncIterable<Buffer>,
  maxBytes: number,
  name: string,
  onEnd: (sha: string) => void,
): AsyncGenerator<Buffer> {
  const it = raw[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLen = 0;
  let rawDone = false;
  while (headLen < 2) {
    const r = await it.next();
    if (r.done) {
      rawDone = true;
      break;
    }
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    head.push(b);
    headLen += b.length;
  }
  let rawSeen = 0;
  async function* rest(): AsyncGenerator<Buffer> {
    for (const b of head) {
      rawSeen += b.length;
      if (rawSeen > maxBytes) throw tooLarge(name, maxBytes);
      yield b;
    }
    if (rawDone) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
      rawSeen += b.length;
      if (rawSeen > maxBytes) throw tooLarge(name, maxBytes);
      yield b;
    }
  }
  const start = head.length === 1 && head[0] ? head[0] : Buffer.concat(head);
  const gzip = start.length >= 2 && start[0] === 0x1f && start[1] === 0x8b;
  let source: AsyncIterable<Buffer> = rest();
  if (gzip) {
    const gunzip = createGunzip();
    // pipeline() forwards a source error (e.g. the raw byte cap) to the gunzip stream.
    pipeline(Readable.from(rest(), { objectMode: false }), gunzip, () => undefined);
    source = gunzip;
  }
  const hash = createHash('sha256');
  let total = 0;
  try {
    for await (const chunk of source) {
      const b = chunk as Buffer;
      total += b.length;
      if (total > maxBytes) throw tooLarge(name, maxBytes, gzip ? 'decompressed document' : 'document');
      hash.update(b);
      yield b;
    }
  } catch (e) {
    if (e instanceof StixgateError) throw e;
    const code = errorCode(e) ?? '';
    if (code.startsWith('Z_')) {
      throw new StixgateError('STIXGATE_ERR_INPUT_PARSE', `gzip data is corrupt or truncated (${code})`, {
        reason: 'gzip',
        location: { source: name },
        cause: e,
      });
    }
    throw e;
  } finally {
    const stop = (it as AsyncIterator<Buffer>).return;
    if (typeof stop === 'function' && !rawDone) {
      // Release the underlying stream when the consumer stops early.
      await stop.call(it).catch(() => undefined);
    }
  }
  if (total === 0) {
    throw new StixgateError('STIXGATE_ERR_INPUT_EMPTY', 'empty document', {
      reason: 'empty',
      location: { source: name },
    });
  }
  onEnd(hash.digest('hex'));
}

function makeDocument(
  raw: AsyncIterable<Buffer>,
  location: string,
  opts: OpenInputOptions,
  base: InputCursor,
): InputDocument {
  const prev = parseInputCursor(opts.cursor);
  let cursor: string | undefined;
  let same = false;
  const body = decodeBody(raw, opts.maxBytes, opts.name, (sha) => {
    cursor = JSON.stringify(
      opts.relist ? { ...base, sha256: sha, read_at: opts.relist.now } : { ...base, sha256: sha },
    );
    same = prev.sha256 === sha;
  });
  return {
    notModified: false,
    body,
    location,
    get cursor() {
      return cursor;
    },
    get sameContent() {
      return same;
    },
  };
}

function notModified(location: string, cursor: string | undefined): InputDocument {
  return {
    notModified: true,
    body: (async function* () {})(),
    location,
    cursor,
    sameContent: true,
  };
}

export async function openInput(url: string, opts: OpenInputOptions): Promise<InputDocument> {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https') return openHttp(url, opts);
  if (scheme !== undefined && scheme !== 'file') {
    throw new StixgateError(
      'STIXGATE_ERR_CONFIG_INVALID',
      `unsupported URL scheme "${scheme}" (use http, https or file)`,
      {
        location: { source: opts.name },
      },
    );
  }
  const path = scheme === 'file' ? fileURLToPath(url) : resolve(url);
  let st: Stats;
  try {
    st = await stat(path);
  } catch (e) {
    throw new StixgateError('STIXGATE_ERR_INPUT_PARSE', `cannot read ${path}: ${errorCode(e) ?? 'error'}`, {
      reason: 'unreadable',
      location: { source: opts.name, file: path },
      cause: e,
    });
  }
  if (!st.isFile()) {
    throw new StixgateError('STIXGATE_ERR_INPUT_PARSE', `${path} is not a regular file`, {
      reason: 'unreadable',
      location: { source: opts.name, file: path },
    });
  }
  if (st.size === 0)
    throw new StixgateError('STIXGATE_ERR_INPUT_EMPTY', 'empty document', {
      reason: 'empty',
      location: { source: opts.name, file: path },
    });
  if (st.size > opts.maxBytes) throw tooLarge(opts.name, opts.maxBytes);
  const prev = parseInputCursor(opts.cursor);
  const mtime = Math.trunc(st.mtimeMs);
  if (conditional(opts, prev) && prev.size === st.size && prev.mtime_ms === mtime && prev.sha256)
    return notModified(path, opts.cursor);
  await opts.guard?.begin(`${path} (${st.size} bytes, modified ${new Date(mtime).toISOString()})`);
  const stream = createReadStream(path, { highWaterMark: 1 << 16, signal: opts.signal });
  return makeDocument(stream as AsyncIterable<Buffer>, path, opts, { size: st.size, mtime_ms: mtime });
}

/**
 * `validate --probe` for a document source: a HEAD request (a GET whose body is discarded when the
 * server refuses HEAD) through the source's own client (its proxy, TLS and headers), or, for a
 * local file, the checks a run makes before reading it. Nothing is downloaded or stored.
 */
export async function probeInput(
  url: string,
  opts: { http?: HttpClient; signal: AbortSignal; maxBytes: number; name: string },
): Promise<string> {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https') {
    if (!opts.http)
      throw new StixgateError('STIXGATE_ERR_CONFIG_INVALID', 'an HTTP client is required for http(s) inputs', {
        location: { source: opts.name },
      });
    let res = await opts.http.request({ url, method: 'HEAD', okStatuses: [405, 501], signal: opts.signal });
    await res.dump();
    if (res.status === 405 || res.status === 501) {
      res = await opts.http.request({ url, method: 'GET', signal: opts.signal });
      await res.dump();
    }
    const length = Number(res.headers['content-length']);
    return `HTTP ${res.status}${Number.isFinite(length) && res.headers['content-length'] !== undefined ? `, ${length} bytes` : ''}`;
  }
  const doc = await openInput(url, { signal: opts.signal, maxBytes: opts.maxBytes, name: opts.name, full: true });
  await doc.body[Symbol.asyncIterator]().return?.();
  return `readable, ${doc.location}`;
}

async function openHttp(url: string, opts: OpenInputOptions): Promise<InputDocument> {
  if (!opts.http) {
    throw new StixgateError('STIXGATE_ERR_CONFIG_INVALID', 'an HTTP client is required for http(s) inputs', {
      location: { source: opts.name },
    });
  }
  const prev = conditional(opts, parseInputCursor(opts.cursor)) ? parseInputCursor(opts.cursor) : {};
  const headers: Record<string, string> = {};
  if (prev.etag) headers['if-none-match'] = prev.etag;
  if (prev.last_modified) headers['if-modified-since'] = prev.last_modified;
  const res = await opts.http.request({
    url,
    method: 'GET',
    headers,
    accept: opts.accept,
    okStatuses: [304],
    signal: opts.signal,
  });
  if (res.status === 304) {
    await res.dump();
    return notModified(res.url || url, opts.cursor);
  }
  const base: InputCursor = {};
  if (res.headers.etag) base.etag = res.headers.etag;
  if (res.headers['last-modified']) base.last_modified = res.headers['last-modified'];
  // the whole body is downloaded before the first page is mapped (src/pipeline/spool.ts)
  const spooled = await spool(res.body, { maxBytes: opts.maxBytes, name: opts.name, dir: opts.spoolDir });
  try {
    await opts.guard?.begin(`${redactUrl(res.url || url)} (sha256 ${spooled.sha256.slice(0, 16)})`);
  } catch (e) {
    for await (const _ of spooled.body) break; // closes the spool file
    throw e;
  }
  return makeDocument(spooled.body, res.url || url, opts, base);
}

// ---------------------------------------------------------------------------------------------
// Paging helpers shared by the document sources (text lists, CSV, STIX bundles, KEV).
// ---------------------------------------------------------------------------------------------

/** Accumulates one page of items and rejections, and the document's running totals. */
export class PageBuilder {
  items: MappedItem[] = [];
  rejections: Rejection[] = [];
  received = 0;
  totalReceived = 0;
  totalBad = 0;
  /** Rejections of the whole document by reason, and the first one (said when the document is refused). */
  readonly badByReason = new Map<string, number>();
  firstBad?: Rejection;

  constructor(readonly pageSize: number) {}

  add(item: MappedItem): void {
    this.items.push(item);
  }

  reject(r: Rejection): void {
    this.rejections.push(r);
    this.totalBad++;
    this.badByReason.set(r.reason, (this.badByReason.get(r.reason) ?? 0) + 1);
    this.firstBad ??= r;
  }

  /** Counts one raw record read (a line, a row, an object). */
  record(): void {
    this.received++;
    this.totalReceived++;
  }

  get full(): boolean {
    return this.items.length + this.rejections.length >= this.pageSize;
  }

  take(cursor?: string): Page {
    const page: Page = { items: this.items, rejections: this.rejections, received: this.received };
    if (cursor !== undefined) page.cursor = cursor;
    this.items = [];
    this.rejections = [];
    this.received = 0;
    return page;
  }
}

/**
 * Documents with fewer records than this are never refused for their share of bad records: one
 * bad object in a bundle of three is that object's rejection, not the bundle's.
 */
export const BAD_RATIO_MIN_RECORDS = 10;

/** The config keys that decide when a document is refused for its bad records. */
export type BadRatioLimits = Pick<CommonSourceConfig, 'max_bad_ratio' | 'bad_ratio_min_records'>;

/**
 * Ends a document: the last page, carrying the document cursor, or — when the document has at
 * least `bad_ratio_min_records` records and the share of bad ones exceeds `max_bad_ratio` — the
 * last page without a cursor plus a STIXGATE_ERR_INPUT_TOO_MANY_BAD_ROWS error. Pages already
 * yielded stay committed (without a cursor); the document is read again next run.
 */
function finishDocument(
  pb: PageBuilder,
  doc: InputDocument,
  limits: BadRatioLimits,
  name: string,
): { page: Page; error?: StixgateError } {
  const maxBadRatio = limits.max_bad_ratio;
  const ratio = pb.totalReceived > 0 ? pb.totalBad / pb.totalReceived : 0;
  if (pb.totalReceived >= (limits.bad_ratio_min_records ?? BAD_RATIO_MIN_RECORDS) && ratio > maxBadRatio) {
    const error = new StixgateError(
      'STIXGATE_ERR_INPUT_TOO_MANY_BAD_ROWS',
      `${pb.totalBad} of ${pb.totalReceived} records rejected (${(ratio * 100).toFixed(1)}% > max_bad_ratio ${maxBadRatio * 100}%); cursor not advanced; ${badSummary(pb)}`,
      { reason: 'too_many_bad_rows', location: { source: name } },
    );
    return { page: pb.take(), error };
  }
  return { page: pb.take(doc.cursor) };
}

/** Why a document's records were refused: the counts by reason (largest first) and the first one with its location. */
function badSummary(pb: PageBuilder): string {
  const reasons = [...pb.badByReason]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 5)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  const first = pb.firstBad;
  const where = first?.location?.line !== undefined ? ` at line ${first.location.line}` : '';
  return `reasons: ${reasons}${first ? `; first${where}: ${first.message}` : ''}`;
}

/**
 * The end of a streamed document, for `yield*` in a source: the last page (with the document's
 * cursor when the share of bad records is acceptable), then the too-many-bad-rows error if not.
 * An empty last page without a cursor is not yielded when the document failed.
 */
export function* lastPages(pb: PageBuilder, doc: InputDocument, limits: BadRatioLimits, name: string): Generator<Page> {
  const end = finishDocument(pb, doc, limits, name);
  if (end.page.items.length || end.page.rejections.length || !end.error) yield end.page;
  if (end.error) throw end.error;
}
