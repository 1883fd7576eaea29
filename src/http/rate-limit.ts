import Bottleneck from 'bottleneck';
import { s } from '../core/schema.js';
import type { HttpClient } from '../http/types.js';

/** `rate_limit: { max_per_minute }`: requests a source may start per minute (bottleneck). */
export const rateLimitSchema = (defaultPerMinute: number) =>
  s.object(
    {
      max_per_minute: s.number({
        default: defaultPerMinute,
        min: 0.1,
        max: 6000,
        description: 'requests started per minute at most',
      }),
    },
    {
      default: { max_per_minute: defaultPerMinute },
      description:
        'client-side rate limit (bottleneck); retries wait inside their slot, so no burst follows a Retry-After',
    },
  );

export interface RateLimited {
  http(inner: HttpClient): HttpClient;
  limiter: Bottleneck;
}

/**
 * One limiter per configured source, shared by all its runs: requests are spaced at least
 * `60 / max_per_minute` seconds apart and never concurrent. Each request holds its slot through
 * the client's own retries (Retry-After sleeps included).
 */
export function createRateLimit(maxPerMinute: number): RateLimited {
  const limiter = new Bottleneck({ maxConcurrent: 1, minTime: Math.ceil(60_000 / maxPerMinute) });
  return {
    limiter,
    http: (inner) => ({ request: (req) => limiter.schedule(() => inner.request(req)) }),
  };
}
