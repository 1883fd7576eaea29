import { StixgateError } from '../../../src/core/errors.js';
import { first } from '../../../src/core/indexed.js';
import { stixTime } from '../../../src/core/stix.js';
import type {
  CommonSourceConfig,
  IntegrationContext,
  Page,
  Source,
  SourceRunContext,
} from '../../../src/pipeline/types.js';
import { arr, bool, epochOf, obj, str, type Json } from '../context.js';
import { parseMispJson } from '../fetch.js';
import { eventsOf, mapEvent, type MispMapOptions } from '../map.js';
import { eventPages, MispRunStats } from '../pages.js';
import { loadMispTable } from '../table.js';
import type { MispApiConfig } from './schema.js';

/**
 * The cursor is `{"ts": <epoch s>}`: the newest timestamp seen in the last COMPLETED window (all
 * pages read to a short page). The next window asks for `timestamp >= ts - overlap_secs`. Pages
 * may come unsorted, so the maximum over the whole window is used, and a window cut short by an
 * error commits nothing: its pages are fetched again (ids are MISP uuids, so replays add nothing).
 */
export function parseApiCursor(cursor: string | undefined): number | undefined {
  if (!cursor) return undefined;
  try {
    const v = JSON.parse(cursor) as { ts?: unknown };
    return typeof v.ts === 'number' && Number.isInteger(v.ts) && v.ts >= 0 ? v.ts : undefined;
  } catch {
    return undefined;
  }
}

export function createMispApiSource(config: MispApiConfig & CommonSourceConfig, ictx: IntegrationContext): Source {
  const table = loadMispTable(ictx.mappingsDir);
  const base = config.url.replace(/\/+$/, '');
  const headers = { authorization: config.api_key, 'content-type': 'application/json' };

  async function post(ctx: SourceRunContext, path: string, body: Json): Promise<unknown> {
    const res = await ctx.http.request({
      url: `${base}${path}`,
      method: 'POST',
      headers: { ...headers, accept: 'application/json' },
      body: JSON.stringify(body),
      accept: ['application/json'],
      idempotent: true,
      signal: ctx.signal,
    });
    return parseMispJson(await res.text(), path, ctx.id);
  }

  return {
    async *pages(ctx: SourceRunContext): AsyncIterable<Page> {
      const nowSecs = Math.floor(ctx.now / 1000);
      const prev = ctx.full ? undefined : parseApiCursor(ctx.cursor);
      const from =
        prev !== undefined
          ? Math.max(0, prev - config.overlap_secs)
          : config.initial_lookback_days > 0
            ? Math.max(0, nowSecs - config.initial_lookback_days * 86400)
            : 0;
      const mode = config.mode;
      const body: Json = { returnFormat: 'json', limit: config.page_size, timestamp: from };
      if (config.published_only) body.published = true;
      if (config.tags.length) body.tags = config.tags;
      if (config.to_ids_only) body.to_ids = true;
      if (mode === 'attributes') {
        body.includeEventUuid = true;
        body.includeEventTags = true;
      } else body.includeSightings = true;
      const mopts: MispMapOptions = {
        now: stixTime(ctx.now),
        table,
        labels: config.labels,
        confidence: config.confidence,
        name: ctx.id,
      };
      const stats = new MispRunStats();
      let maxTs = prev ?? 0;
      let ignoresTimestamp = false;
      let lastSignature = '';
      let complete = false;
      for (let page = 1; page <= config.max_pages; page++) {
        const doc = await post(ctx, mode === 'events' ? '/events/restSearch' : '/attributes/restSearch', {
          ...body,
          page,
        });
        const records = mode === 'events' ? eventsOf(doc) : attributesOf(doc);
        const signature = `${records.length}:${records.map((r) => str(r.uuid) ?? '').join(',')}`;
        if (records.length > 0 && signature === lastSignature) {
          throw new StixgateError(
            'STIXGATE_ERR_INPUT_PARSE',
            `page ${page} repeats page ${page - 1}: the server ignores \`page\`; cursor not advanced`,
            { reason: 'misp_pagination_stuck', location: { source: ctx.id } },
          );
        }
        lastSignature = signature;
        const events = mode === 'events' ? records : groupByEvent(records);
        for (const ev of events) {
          if (mode === 'events' && config.published_only && ev.published !== undefined && !bool(ev.published)) continue;
          // events mode: the server filters on the EVENT timestamp; attributes mode: on the attribute's
          const ts =
            mode === 'events'
              ? (epochOf(ev.timestamp) ?? 0)
              : Math.max(0, ...arr(ev.Attribute).map((a) => epochOf(a.timestamp) ?? 0));
          if (ts > 0 && ts < from) ignoresTimestamp = true;
          if (ts <= nowSecs + config.max_skew_secs) maxTs = Math.max(maxTs, ts);
          else maxTs = Math.max(maxTs, nowSecs);
          const r = mapEvent(ev, { ...mopts, report: mode === 'events' });
          stats.add(r);
          yield* eventPages(r, undefined);
        }
        if (records.length < config.page_size) {
          complete = true;
          break;
        }
      }
      if (ignoresTimestamp)
        ctx.logger.warn(
          { from },
          'misp: the server returned records older than the requested timestamp (it ignores the filter); the store stays idempotent',
        );
      stats.log(ctx);
      if (!complete) {
        throw new StixgateError(
          'STIXGATE_ERR_INPUT_TOO_LARGE',
          `window not completed within max_pages (${config.max_pages}); cursor not advanced`,
          { reason: 'misp_window_incomplete', location: { source: ctx.id } },
        );
      }
      yield { items: [], rejections: [], received: 0, cursor: JSON.stringify({ ts: maxTs }) };
    },
    async probe(ctx: SourceRunContext): Promise<string> {
      const res = await ctx.http.request({
        url: `${base}/servers/getVersion`,
        method: 'GET',
        headers: { authorization: config.api_key, accept: 'application/json' },
        accept: ['application/json'],
        signal: ctx.signal,
      });
      const v = obj(parseMispJson(await res.text(), '/servers/getVersion', ctx.id));
      const version = v && str(v.version);
      if (!version)
        throw new StixgateError('STIXGATE_ERR_INPUT_PARSE', '/servers/getVersion answered without a version', {
          reason: 'not_misp',
          location: { source: ctx.id },
        });
      return `MISP ${version}${v && bool(v.perm_sync) ? ' (sync user)' : ''}`;
    },
  };
}

/** `/attributes/restSearch` → `{response: {Attribute: [...]}}`. */
export function attributesOf(doc: unknown): Json[] {
  const r = obj(obj(doc)?.response);
  return r ? arr(r.Attribute) : [];
}

/** Attributes grouped under a synthetic event per `event_uuid` (no report is made from these). */
function groupByEvent(attrs: Json[]): Json[] {
  const byEvent = new Map<string, Json[]>();
  for (const a of attrs) {
    const key = str(a.event_uuid) ?? str(obj(a.Event)?.uuid) ?? '';
    const list = byEvent.get(key);
    if (list) list.push(a);
    else byEvent.set(key, [a]);
  }
  return [...byEvent].map(([uuid, list]) => {
    // a group exists because one attribute went into it
    const head = first(list);
    const ev = obj(head.Event) ?? {};
    return { uuid, Tag: ev.Tag ?? head.EventTag ?? [], Attribute: list, Orgc: ev.Orgc };
  });
}
