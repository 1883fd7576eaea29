import { interceptors, request, type Dispatcher } from 'undici';
import type Bottleneck from 'bottleneck';
import { StixgateError, errorMessage } from '../core/errors.js';
import type { Logger } from '../telemetry/logger.js';
import { abortableSleep } from '../core/backoff.js';
import { httpError, statusError, tooLargeError, transportError } from './errors.js';
import type { Interceptor } from './handler.js';
import { byteCap, encodingGuard } from './limits.js';
import { redirectGuard, type HopTrace } from './redirect-guard.js';
import { flattenHeaders, wrapResponse } from './response.js';
import { limiterInterceptor, retryInterceptor } from './retry.js';
import { checkUrl, redactUrl, type Resolver } from './ssrf.js';
import { createTransport } from './transport.js';
import { refuseProxiedTarget } from './proxy-guard.js';
import type { HttpClient, HttpPolicy, HttpRequest, HttpResponse } from './types.js';
import { first } from '../core/indexed.js';
import { errorCode } from '../core/guards.js';

export interface HttpClientOptions {
  /** The configured component id, named in every error message. */
  component: string;
  logger?: Logger;
  /** Called with the error's reason before each automatic retry (for metrics). */
  onRetry?: (reason: string) => void;
  /** Each attempt takes a slot (up to the response headers). */
  limiter?: Bottleneck;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Replaces the client's own transport (e.g. a MockAgent); the connect-time SSRF check is then the caller's. */
  dispatcher?: Dispatcher;
  /** Clock for Retry-After HTTP-dates. */
  now?: () => number;
  /** Random source for back-off jitter. */
  rng?: () => number;
  /** Host name resolver used by the connect-time SSRF check (tests inject one to simulate rebinding). */
  resolver?: Resolver;
}

/** An HttpClient that owns its transport; `close()` releases its sockets. */
export interface ClosableHttpClient extends HttpClient {
  close(): Promise<void>;
}

/** Returns a warning when the environment disables TLS verification for the whole process (`NODE_TLS_REJECT_UNAUTHORIZED=0`). */
export function warnInsecureEnvironment(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.NODE_TLS_REJECT_UNAUTHORIZED === '0') {
    return 'NODE_TLS_REJECT_UNAUTHORIZED=0 is set: Node.js will not verify TLS certificates for any connection; unset it';
  }
  return undefined;
}

function mediaType(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  return first(contentType.split(';')).trim().toLowerCase() || undefined;
}

function acceptable(media: string, accept: string[]): boolean {
  return accept.some((a) => {
    const want = mediaType(a);
    if (!want) return false;
    if (want === '*/*' || want === media) return true;
    return want.endsWith('/*') && media.startsWith(want.slice(0, -1));
  });
}

/**
 * The outbound client: undici's transport (TLS, proxy, connect-time SSRF check) composed with
 * interceptors, innermost first:
 *
 *   wire byte cap → encoding guard → decompress → decoded byte cap → redirect guard → redirect
 *   → limiter → retry
 *
 * and, around them, the total deadline, the status and content-type checks and the error
 * vocabulary of ./errors.ts. The chain is composed per request, so each interceptor sees that
 * request's deadline, trace and idempotency.
 */
export function createHttpClient(policy: HttpPolicy, opts: HttpClientOptions): ClosableHttpClient {
  const component = opts.component;
  const sleep = opts.sleep ?? abortableSleep;
  const now = opts.now ?? Date.now;
  const rng = opts.rng ?? Math.random;
  const transport = opts.dispatcher ?? createTransport(component, policy, opts.resolver);

  async function send(req: HttpRequest): Promise<HttpResponse> {
    const method = req.method ?? 'GET';
    const trace: HopTrace = { url: req.url };
    const refused = checkUrl(req.url, policy);
    if (refused) throw httpError(component, 'STIXGATE_ERR_HTTP_SSRF', method, req.url, 'ssrf', { detail: refused });
    // redirects are followed within the origin only, so one check covers every hop
    const proxied = await refuseProxiedTarget(req.url, policy, opts.resolver);
    if (proxied) throw httpError(component, 'STIXGATE_ERR_HTTP_SSRF', method, req.url, 'ssrf', { detail: proxied });

    const ac = new AbortController();
    let timedOut = false;
    const total = setTimeout(() => {
      timedOut = true;
      ac.abort(new Error('total deadline exceeded'));
    }, policy.totalTimeoutMs);
    total.unref();
    const onCallerAbort = (): void => ac.abort(req.signal?.reason);
    if (req.signal?.aborted) ac.abort(req.signal.reason);
    else req.signal?.addEventListener('abort', onCallerAbort, { once: true });
    let settled = false;
    const done = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(total);
      req.signal?.removeEventListener('abort', onCallerAbort);
    };
    const mapError = (e: unknown): StixgateError =>
      transportError(e, {
        component,
        method,
        url: trace.url,
        timedOut,
        callerAborted: !timedOut && req.signal?.aborted === true,
        maxBytes: policy.maxBytes,
      });
    /** undici reports a retryable status it gave up on as a RequestRetryError carrying the status. */
    const classify = (err: unknown): StixgateError => {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === undefined || err instanceof StixgateError)
        return redirectError(err, component, method, trace.url) ?? mapError(err);
      const retryAfter = (err as { headers?: Record<string, string | string[]> }).headers?.['retry-after'];
      return statusError(
        component,
        status,
        Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        method,
        trace.url,
        now(),
      );
    };
    const tooLarge = (): StixgateError => tooLargeError(component, method, trace.url, policy.maxBytes);

    const chain: Interceptor[] = [
      byteCap(policy.maxBytes, tooLarge),
      encodingGuard((reason, detail) =>
        httpError(component, 'STIXGATE_ERR_HTTP_CONTENT_TYPE', method, trace.url, reason, { detail }),
      ),
      interceptors.decompress({ maxSize: policy.maxBytes }),
      byteCap(policy.maxBytes, tooLarge),
      redirectGuard(policy, trace, (reason, from, detail) =>
        httpError(
          component,
          reason === 'ssrf' ? 'STIXGATE_ERR_HTTP_SSRF' : 'STIXGATE_ERR_HTTP_REDIRECT',
          method,
          from,
          reason,
          { detail },
        ),
      ),
      interceptors.redirect({ maxRedirections: policy.maxRedirects, throwOnMaxRedirect: true }),
      ...(opts.limiter ? [limiterInterceptor(opts.limiter)] : []),
      retryInterceptor({
        policy: policy.retry,
        idempotent: req.idempotent ?? (method === 'GET' || method === 'HEAD'),
        okStatuses: req.okStatuses,
        classify,
        sleep,
        rng,
        signal: ac.signal,
        onRetry: (e, attempt, delayMs) => {
          opts.onRetry?.(e.reason);
          opts.logger?.debug({ component, reason: e.reason, attempt, delayMs }, 'http retry');
        },
      }),
    ];
    const dispatcher = transport.compose(chain);

    const headers: Record<string, string> = {
      'user-agent': 'stixgate',
      ...(req.accept ? { accept: req.accept.join(', ') } : {}),
    };
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
    delete headers['proxy-authorization']; // proxy credentials belong to the transport, never to a request
    headers['accept-encoding'] = 'gzip, deflate, br';

    let res: Dispatcher.ResponseData;
    try {
      res = await request(req.url, { dispatcher, method, headers, body: req.body, signal: ac.signal });
    } catch (e) {
      done();
      throw classify(e);
    }
    try {
      return check(req, res, method, trace.url, { mapError, done });
    } catch (e) {
      done();
      throw e;
    }
  }

  function check(
    req: HttpRequest,
    res: Dispatcher.ResponseData,
    method: string,
    url: string,
    r: { mapError: (e: unknown) => StixgateError; done: () => void },
  ): HttpResponse {
    const headers = flattenHeaders(res.headers);
    const ok = (res.statusCode >= 200 && res.statusCode < 300) || (req.okStatuses?.includes(res.statusCode) ?? false);
    if (!ok) {
      void res.body.dump().catch(() => undefined);
      throw statusError(component, res.statusCode, headers['retry-after'], method, url, now());
    }
    if (req.accept && res.statusCode >= 200 && res.statusCode < 300 && res.statusCode !== 204 && method !== 'HEAD') {
      const got = mediaType(headers['content-type']);
      if (got && !acceptable(got, req.accept)) {
        void res.body.dump().catch(() => undefined);
        const hint = got === 'text/html' ? ' (an SSO login page or proxy?)' : '';
        throw new StixgateError(
          'STIXGATE_ERR_HTTP_CONTENT_TYPE',
          `${component}: ${method} ${redactUrl(url)}: expected ${req.accept.map(mediaType).join(' or ')}, got ${got}${hint} (content_type)`,
          { reason: 'content_type' },
        );
      }
    }
    return wrapResponse(res, headers, { component, method, url, mapError: r.mapError, done: r.done });
  }

  return {
    request: send,
    async close() {
      if (!opts.dispatcher) await transport.close();
    },
  };
}

/** undici's redirect errors: the hop limit, and a Location that leads back to a visited URL. */
function redirectError(e: unknown, component: string, method: string, url: string): StixgateError | undefined {
  const code = errorCode(e);
  if (code === 'UND_ERR_REDIRECT_MAX')
    return httpError(component, 'STIXGATE_ERR_HTTP_REDIRECT', method, url, 'too_many_redirects');
  if (code === 'UND_ERR_INVALID_ARG' && /redirect loop/i.test(errorMessage(e))) {
    return httpError(component, 'STIXGATE_ERR_HTTP_REDIRECT', method, url, 'too_many_redirects', {
      detail: 'redirect loop',
    });
  }
  return undefined;
}
