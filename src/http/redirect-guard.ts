import type { StixgateError } from '../core/errors.js';
import { decorate, dispatchUrl, headerValue, type Interceptor } from './handler.js';
import { checkUrl, type UrlPolicy } from './ssrf.js';

const REDIRECT_STATUSES = [301, 302, 303, 307, 308];

export type RedirectRefusal = 'redirect_cross_origin' | 'redirect_downgrade' | 'ssrf';

/** Where a request went: the URL of each hop, updated as undici's redirect interceptor follows. */
export interface HopTrace {
  url: string;
}

/**
 * Why a redirect from `from` to `location` is refused, or undefined when it may be followed.
 * Only same-origin redirects are followed, so no secret header can reach another host; a
 * downgrade to http, another scheme, userinfo or a target outside the SSRF policy is refused.
 */
export function refuseRedirect(
  from: string,
  location: string,
  policy: UrlPolicy,
): { reason: RedirectRefusal; detail?: string } | undefined {
  const src = new URL(from);
  let to: URL;
  try {
    to = new URL(location, src);
  } catch {
    return { reason: 'redirect_cross_origin', detail: 'unparseable Location' };
  }
  if (to.protocol !== 'https:' && to.protocol !== 'http:')
    return { reason: 'ssrf', detail: `redirect to ${to.protocol} refused` };
  if (src.protocol === 'https:' && to.protocol === 'http:') return { reason: 'redirect_downgrade' };
  if (to.origin !== src.origin || to.username || to.password)
    return { reason: 'redirect_cross_origin', detail: `to ${to.protocol}//${to.host}` };
  const refused = checkUrl(to.href, policy);
  return refused ? { reason: 'ssrf', detail: refused } : undefined;
}

/**
 * Sits inside undici's redirect interceptor: records each hop's URL in `trace` and refuses a
 * redirect before undici follows it, so a refused Location is never connected to.
 */
export function redirectGuard(
  policy: UrlPolicy,
  trace: HopTrace,
  refuse: (reason: RedirectRefusal, from: string, detail?: string) => StixgateError,
): Interceptor {
  return (dispatch) => (opts, handler) => {
    const url = dispatchUrl(opts);
    trace.url = url;
    return dispatch(
      opts,
      decorate(handler, {
        onResponseStart(c, status, headers, message) {
          const location = headerValue(headers, 'location');
          if (REDIRECT_STATUSES.includes(status) && location) {
            const refusal = refuseRedirect(url, location, policy);
            if (refusal) throw refuse(refusal.reason, url, refusal.detail);
          }
          return handler.onResponseStart?.(c, status, headers, message);
        },
      }),
    );
  };
}
