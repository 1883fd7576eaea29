import { StixgateError } from '../../src/core/errors.js';
import type {
  CommonSourceConfig,
  IntegrationContext,
  Page,
  Source,
  SourceRunContext,
} from '../../src/pipeline/types.js';
import type { HttpClient } from '../../src/http/types.js';
import { createRateLimit } from '../../src/http/rate-limit.js';
import { MAX_SKEW_MS, parseCursor } from '../../src/formats/time-window.js';
import { mapPulse, type OtxMapEnv } from './map.js';
import type { OtxConfig } from './schema.js';
import { loadOtxTypes } from './types-table.js';

function base(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/**
 * Subscribed pulses, paged by `next`, from `modified_since` = cursor - overlap (or `initial_days`
 * back). The cursor is the newest pulse `modified` of a completed run (never beyond now + skew),
 * committed with the last page only. `next` links must stay on the configured origin and
 * may not repeat; the SSRF policy applies to every request.
 */
export function createOtxSource(config: OtxConfig & CommonSourceConfig, ictx: IntegrationContext): Source {
  const table = loadOtxTypes(ictx.mappingsDir);
  const rate = createRateLimit(config.rate_limit.max_per_minute);
  const origin = new URL(config.url).origin;

  async function get(http: HttpClient, ctx: SourceRunContext, url: string): Promise<unknown> {
    const res = await rate.http(http).request({
      url,
      headers: { 'x-otx-api-key': config.api_key },
      accept: ['application/json'],
      okStatuses: [401, 403],
      signal: ctx.signal,
    });
    if (res.status === 401 || res.status === 403) {
      await res.dump();
      throw new StixgateError(
        'STIXGATE_ERR_HTTP_STATUS',
        `${ctx.id}: OTX refused the API key (HTTP ${res.status}): set api_key to the key on your OTX settings page (auth)`,
        { reason: 'auth' },
      );
    }
    const doc = await res.json();
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
      throw new StixgateError('STIXGATE_ERR_INPUT_PARSE', `${ctx.id}: OTX answer is not a JSON object (not_object)`, {
        reason: 'not_object',
      });
    return doc;
  }

  return {
    async *pages(ctx: SourceRunContext): AsyncIterable<Page> {
      const since = ctx.full ? undefined : parseCursor(ctx.cursor);
      const from =
        since !== undefined ? since - config.overlap_secs * 1000 : ctx.now - config.initial_days * 86_400_000;
      const q = new URLSearchParams({ limit: String(config.page_size), modified_since: new Date(from).toISOString() });
      let url = `${base(config.url)}api/v1/pulses/subscribed?${q}`;
      const env: OtxMapEnv = {
        now: new Date(ctx.now).toISOString(),
        validDays: config.valid_days,
        source: ctx.id,
        table,
      };
      const visited = new Set<string>();
      let newest = since ?? -Infinity;
      let index = 0;
      for (let n = 1; ; n++) {
        visited.add(url);
        const doc = (await get(ctx.http, ctx, url)) as Record<string, unknown>;
        const results = Array.isArray(doc.results) ? doc.results : [];
        const page: Page = { items: [], rejections: [], received: results.length };
        for (const pulse of results) {
          const m = mapPulse(pulse, index++, env);
          page.items.push(...m.items);
          page.rejections.push(...m.rejections);
          if (m.time !== undefined && !Number.isNaN(m.time))
            newest = Math.max(newest, Math.min(m.time, ctx.now + MAX_SKEW_MS));
        }
        const next = typeof doc.next === 'string' && doc.next !== '' ? doc.next : undefined;
        if (!next) {
          if (Number.isFinite(newest)) page.cursor = new Date(newest).toISOString();
          yield page;
          return;
        }
        let to: URL;
        try {
          to = new URL(next, url);
        } catch {
          throw new StixgateError('STIXGATE_ERR_INPUT_PARSE', `${ctx.id}: OTX "next" is not a URL (bad_next)`, {
            reason: 'bad_next',
          });
        }
        if (to.origin !== origin || to.username || to.password) {
          throw new StixgateError(
            'STIXGATE_ERR_HTTP_SSRF',
            `${ctx.id}: OTX "next" link to ${to.protocol}//${to.host} refused: pages must stay on ${origin} (pagination_origin)`,
            { reason: 'pagination_origin' },
          );
        }
        if (visited.has(to.href))
          throw new StixgateError(
            'STIXGATE_ERR_HTTP_STATUS',
            `${ctx.id}: OTX "next" repeats an earlier page (pagination_loop)`,
            { reason: 'pagination_loop' },
          );
        if (n >= config.max_pages)
          throw new StixgateError(
            'STIXGATE_ERR_HTTP_STATUS',
            `${ctx.id}: more than max_pages=${config.max_pages} pages in one run (too_many_pages)`,
            { reason: 'too_many_pages' },
          );
        yield page;
        url = to.href;
      }
    },
    async probe(ctx: SourceRunContext): Promise<string> {
      const doc = (await get(ctx.http, ctx, `${base(config.url)}api/v1/users/me`)) as Record<string, unknown>;
      const user = typeof doc.username === 'string' ? doc.username.slice(0, 64) : 'unknown user';
      return `OTX API key accepted (user ${user})`;
    },
  };
}
