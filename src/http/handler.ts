import type { Dispatcher } from 'undici';

export type Handler = Dispatcher.DispatchHandler;
export type Dispatch = Dispatcher.Dispatch;
export type Interceptor = Dispatcher.DispatcherComposeInterceptor;
export type Controller = Dispatcher.DispatchController;

/**
 * A handler that forwards every callback to `inner` except the ones given in `over`. Each
 * override receives the same arguments and decides itself whether to forward.
 */
export function decorate(inner: Handler, over: Partial<Handler>): Handler {
  return {
    onRequestStart: (c, ctx) => inner.onRequestStart?.(c, ctx),
    onRequestUpgrade: (c, s, h, sock) => inner.onRequestUpgrade?.(c, s, h, sock),
    onResponseStart: (c, s, h, m) => inner.onResponseStart?.(c, s, h, m),
    onResponseData: (c, chunk) => inner.onResponseData?.(c, chunk),
    onResponseEnd: (c, t) => inner.onResponseEnd?.(c, t),
    onResponseError: (c, e) => inner.onResponseError?.(c, e),
    ...over,
  };
}

/** The single value of a response header (undici gives arrays for repeated headers). */
export function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The URL a dispatch goes to, from its origin and path. */
export function dispatchUrl(opts: Dispatcher.DispatchOptions): string {
  const origin = typeof opts.origin === 'string' ? opts.origin : (opts.origin?.toString() ?? '');
  return new URL(opts.path, origin).href;
}
