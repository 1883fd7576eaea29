import { createHash } from 'node:crypto';
import { StixgateError } from '../../../src/core/errors.js';
import { first, group } from '../../../src/core/indexed.js';
import { stixTime } from '../../../src/core/stix.js';
import type {
  CommonSourceConfig,
  IntegrationContext,
  Page,
  Source,
  SourceRunContext,
} from '../../../src/pipeline/types.js';
import { bool, epochOf, obj, uuidOf, type Json } from '../context.js';
import { fetchBytes, parseMispJson } from '../fetch.js';
import { bareAttributes, bareAttributeWarning, eventsOf, mapEvent } from '../map.js';
import { eventPages, MispRunStats } from '../pages.js';
import { loadMispTable } from '../table.js';
import type { MispFeedConfig } from './schema.js';

export interface ManifestEntry {
  uuid: string;
  timestamp: number;
}

export interface FeedCursor {
  /** the highest manifest timestamp of the events ingested (epoch s), never past now + max_skew */
  ts: number;
  /** the events ingested AT that timestamp (they are not fetched again unless their timestamp moves) */
  at: string[];
  /** events listed in the manifest that could not be read or mapped (missing, corrupt): fetched again next run */
  retry: string[];
}

const MAX_AT = 5000;

export function parseFeedCursor(cursor: string | undefined): FeedCursor {
  if (!cursor) return { ts: 0, at: [], retry: [] };
  try {
    const v = JSON.parse(cursor) as { manifest_ts?: unknown; at?: unknown; retry?: unknown };
    const ts = typeof v.manifest_ts === 'number' && v.manifest_ts >= 0 ? v.manifest_ts : 0;
    const list = (x: unknown) =>
      Array.isArray(x) ? x.filter((y): y is string => typeof y === 'string').slice(0, MAX_AT) : [];
    return { ts, at: list(v.at), retry: list(v.retry) };
  } catch {
    return { ts: 0, at: [], retry: [] };
  }
}

function cursorText(c: FeedCursor): string {
  return JSON.stringify({ manifest_ts: c.ts, at: c.at.length <= MAX_AT ? c.at : [], retry: c.retry });
}

/** Why an event file could not be used: the transfer failed (`event_unavailable`) or its content is not readable JSON (`event_corrupt`). */
type EventFailure = { reason: 'event_unavailable' | 'event_corrupt' | 'hash_mismatch' | 'not_event'; message: string };

/** manifest.json → entries sorted by (timestamp, uuid). Entries without a valid uuid are skipped. */
export function readManifest(doc: unknown, source: string): ManifestEntry[] {
  const m = obj(doc);
  if (!m)
    throw new StixgateError('STIXGATE_ERR_INPUT_PARSE', 'manifest.json is not a JSON object', {
      reason: 'not_object',
      location: { source },
    });
  const out: ManifestEntry[] = [];
  for (const [key, v] of Object.entries(m)) {
    const uuid = uuidOf(key);
    const e = obj(v);
    if (!uuid || !e) continue;
    out.push({ uuid, timestamp: epochOf(e.timestamp) ?? 0 });
  }
  return out.sort((a, b) => a.timestamp - b.timestamp || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
}

/** hashes.csv in its file-checksum form (`<uuid>.json,<md5>,<sha1>`) → uuid → md5. The per-value form is ignored. */
export function readFileHashes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const [file, md5] = line.split(',').map((x) => x.trim());
    const m = /^([0-9a-f-]{36})\.json$/i.exec(file ?? '');
    if (m && md5 && /^[0-9a-f]{32}$/i.test(md5)) out.set(group(m, 1).toLowerCase(), md5.toLowerCase());
  }
  return out;
}

/** A URL naming one `.json` document rather than the feed folder. */
export function isSingleDocument(url: string): boolean {
  const path = first(url.split(/[?#]/)); // split yields at least one part
  return /\.json$/i.test(path) && !/\/manifest\.json$/i.test(path);
}

function join(base: string, name: string): string {
  return base.endsWith('/') ? base + name : `${base}/${name}`;
}

export function createMispFeedSource(config: MispFeedConfig & CommonSourceConfig, ictx: IntegrationContext): Source {
  const table = loadMispTable(ictx.mappingsDir);
  const base = config.url.replace(/manifest\.json$/i, '');
  /** The feed's manifest.json, fetched within max_feed_bytes and read (a located error when it is not one). */
  const fetchManifest = async (ctx: SourceRunContext) =>
    readManifest(
      parseMispJson(await fetchBytes(join(base, 'manifest.json'), ctx, config.max_feed_bytes), 'manifest.json', ctx.id),
      ctx.id,
    );
  return {
    async *pages(ctx: SourceRunContext): AsyncIterable<Page> {
      if (isSingleDocument(config.url)) {
        // one event file or collection (`stixgate convert --from misp_feed event.json`): no cursor
        const stats = new MispRunStats();
        const name = first(config.url.split(/[?#]/)).split('/').pop() ?? 'event';
        const doc = parseMispJson(await fetchBytes(config.url, ctx, config.max_feed_bytes), name, ctx.id);
        const bare = bareAttributes(doc);
        if (bare) yield { items: [], rejections: [], received: 0, warnings: [bareAttributeWarning(name, bare.length)] };
        for (const ev of eventsOf(doc)) {
          if (config.published_only && !bool(ev.published)) continue;
          const r = mapEvent(ev, {
            now: stixTime(ctx.now),
            table,
            labels: config.labels,
            confidence: config.confidence,
            name: ctx.id,
          });
          stats.add(r);
          yield* eventPages(r, undefined);
        }
        stats.log(ctx);
        return;
      }
      const prev: FeedCursor = ctx.full ? { ts: 0, at: [], retry: [] } : parseFeedCursor(ctx.cursor);
      const retry = new Set(prev.retry);
      const done = new Set(prev.at);
      const manifest = await fetchManifest(ctx);
      let hashes = new Map<string, string>();
      if (config.verify_hashes) {
        try {
          hashes = readFileHashes(
            (await fetchBytes(join(base, 'hashes.csv'), ctx, config.max_feed_bytes)).toString('utf8'),
          );
        } catch (e) {
          // hashes.csv is optional in a feed
          if (!(e instanceof StixgateError)) throw e;
        }
      }
      const nowSecs = Math.floor(ctx.now / 1000);
      const ceiling = nowSecs + config.max_skew_secs;
      const from = Math.max(0, prev.ts - config.overlap_secs);
      // newer than the cursor, or inside the overlap, or at the cursor's timestamp but not yet ingested
      // and the events a previous run could not read
      let todo = manifest.filter(
        (e) =>
          retry.has(e.uuid) ||
          e.timestamp === 0 ||
          e.timestamp > prev.ts ||
          (e.timestamp >= from && !(e.timestamp === prev.ts && done.has(e.uuid))),
      );
      if (config.max_events !== undefined) todo = todo.slice(0, config.max_events);
      const stats = new MispRunStats();
      const now = stixTime(ctx.now);
      // manifest entries that are gone are not retried
      const listed = new Set(manifest.map((e) => e.uuid));
      const cur: FeedCursor = { ts: prev.ts, at: [...prev.at], retry: prev.retry.filter((u) => listed.has(u)) };
      for (const entry of todo) {
        const file = `${entry.uuid}.json`;
        let events: Json[] = [];
        let failure: EventFailure | undefined;
        try {
          const bytes = await fetchBytes(join(base, file), ctx, config.max_feed_bytes);
          const want = hashes.get(entry.uuid);
          if (want && createHash('md5').update(bytes).digest('hex') !== want)
            failure = { reason: 'hash_mismatch', message: `${file} does not match its hashes.csv MD5` };
          else {
            const doc = parseMispJson(bytes, file, ctx.id);
            const bare = bareAttributes(doc);
            if (bare)
              yield { items: [], rejections: [], received: 0, warnings: [bareAttributeWarning(file, bare.length)] };
            events = eventsOf(doc);
            if (events.length === 0) failure = { reason: 'not_event', message: `${file} holds no MISP event` };
          }
        } catch (e) {
          // one unreadable event never blocks the others; a shutdown, or more failures than the
          // cursor can remember, still ends the run (the cursor stays at the last stored event)
          if (!(e instanceof StixgateError) || ctx.signal.aborted || cur.retry.length >= MAX_AT) throw e;
          failure = {
            reason: e.code === 'STIXGATE_ERR_INPUT_PARSE' ? 'event_corrupt' : 'event_unavailable',
            message: `${file}: ${e.message}`.slice(0, 500),
          };
        }
        // the cursor never passes now + max_skew: a future-dated event is fetched again next run
        if (entry.timestamp <= ceiling && entry.timestamp > 0) {
          if (entry.timestamp > cur.ts) {
            cur.ts = entry.timestamp;
            cur.at = [];
          }
          if (!failure && entry.timestamp === cur.ts && !cur.at.includes(entry.uuid)) cur.at.push(entry.uuid);
        }
        cur.retry = cur.retry.filter((u) => u !== entry.uuid);
        if (failure) {
          if (failure.reason !== 'not_event') cur.retry.push(entry.uuid);
          yield {
            items: [],
            received: 1,
            cursor: cursorText(cur),
            rejections: [{ ...failure, location: { source: ctx.id, file } }],
          };
          continue;
        }
        const cursor = cursorText(cur);
        for (const [i, ev] of events.entries()) {
          if (config.published_only && !bool(ev.published)) continue;
          const r = mapEvent(ev, { now, table, labels: config.labels, confidence: config.confidence, name: ctx.id });
          stats.add(r);
          yield* eventPages(r, i === events.length - 1 ? cursor : undefined);
        }
      }
      stats.log(ctx);
    },
    async probe(ctx: SourceRunContext): Promise<string> {
      const manifest = await fetchManifest(ctx);
      return `MISP feed manifest lists ${manifest.length} events`;
    },
  };
}
