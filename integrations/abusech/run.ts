import type { CommonSourceConfig, Page, Source, SourceRunContext } from '../../src/pipeline/types.js';
import type { HttpClient } from '../../src/http/types.js';
import { abusechQuery, type AbusechRequest } from './client.js';
import type { MapEnv } from './common-map.js';
import { createRateLimit } from '../../src/http/rate-limit.js';
import type { AbusechConfig } from './schema.js';
import { parseCursor, windowPages, type MappedRecord } from '../../src/formats/time-window.js';

/** What differs between the abuse.ch "recent records" sources. */
export interface RecentApi {
  service: string;
  /** The request for this run, given the committed cursor (epoch ms) and the clock. */
  request(since: number | undefined, now: number): Omit<AbusechRequest, 'component' | 'service' | 'authKey' | 'signal'>;
  /** Records a full answer holds (for the gap warning). */
  limit?: number;
  time(rec: unknown): number | undefined;
  map(rec: unknown, index: number, env: MapEnv): MappedRecord;
  /** The request `probe()` sends (something small). */
  probe(): Omit<AbusechRequest, 'component' | 'service' | 'authKey' | 'signal'>;
}

/** A Source over one abuse.ch "recent records" API, rate-limited per configured source. */
export function createRecentSource(config: AbusechConfig & CommonSourceConfig, api: RecentApi): Source {
  const rate = createRateLimit(config.rate_limit.max_per_minute);
  const call = (http: HttpClient, ctx: SourceRunContext, req: ReturnType<RecentApi['request']>) =>
    abusechQuery(rate.http(http), {
      ...req,
      component: ctx.id,
      service: api.service,
      authKey: config.auth_key,
      signal: ctx.signal,
    });
  return {
    async *pages(ctx: SourceRunContext): AsyncIterable<Page> {
      const cursor = ctx.full ? undefined : ctx.cursor;
      const records = await call(ctx.http, ctx, api.request(parseCursor(cursor), ctx.now));
      const env: MapEnv = { now: new Date(ctx.now).toISOString(), validDays: config.valid_days, source: ctx.id };
      yield* windowPages(records, {
        cursor,
        overlapMs: config.overlap_secs * 1000,
        now: ctx.now,
        limit: api.limit,
        logger: ctx.logger,
        component: ctx.id,
        time: api.time,
        map: (rec, i) => api.map(rec, i, env),
      });
    },
    async probe(ctx: SourceRunContext): Promise<string> {
      const records = await call(ctx.http, ctx, api.probe());
      return `${api.service} API answered with ${records.length} record${records.length === 1 ? '' : 's'}`;
    },
  };
}

/** `base` joined with a relative path, keeping the base's path (`…/v1/` + `urls/recent/`). */
export function endpoint(base: string, path: string): string {
  return new URL(path, base.endsWith('/') ? base : `${base}/`).href;
}
