import { readFileSync } from 'node:fs';
import { pipeline, Transform, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { Agent, request, type Dispatcher } from 'undici';
import type Bottleneck from 'bottleneck';
import { StixgateError, type ErrorCode } from '../core/errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { HttpClient, HttpPolicy, HttpRequest, HttpResponse } from './types.js';
import { abortableSleep, backoffDelay, parseRetryAfter } from '../pipeline/backoff.js';
import { checkUrl, guardedLookup, redactUrl, SSRF_LOOKUP_CODE, type Resolver } from './ssrf.js';

export interface HttpClientOptions {
  /** The configured component id, named in every error message. */
  component: string;
  logger?: Logger;
  /** Called with the error's reason before each automatic retry (for metrics). */
  onRetry?: (reason: string) => void;
  /** Wraps each attempt (up to the response headers). */
  limiter?: Bottleneck;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Replaces the client's own Agent (e.g. a MockAgent); the connect-time SSRF check is then the caller's. */
  dispatcher?: Dispatcher;
  /** Clock for Retry-After HTTP-dates. */
  now?: () => number;
  /** Random source for back-off jitter. */
  rng?: () => number;
  /** Host name resolver used by the connect-time SSRF check (tests inject one to simulate rebinding). */
  resolver?: Resolver;
}

/** An HttpClient that owns an Agent; `close()` releases its sockets. */
export interface ClosableHttpClient extends HttpClient {
  close(): Promise<void>;
}

const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_ENCODINGS = 2;

/** Returns a warning when the environment disables TLS verification for the whole process (X5). */
export function warnInsecureEnvironment(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.NODE_TLS_REJECT_UNAUTHORIZED === '0') {
    return 'NODE_TLS_REJECT_UNAUTHORIZED=0 is set: Node.js will not verify TLS certificates for any connection; unset it';
  }
  return undefined;
}

function errnoCode(e: unknown): string | undefined {
  let cur: any = e;
  for (let i = 0; i < 4 && cur; i++) {
    if (typeof cur.code === 'string' && cur.code !== 'UND_ERR_ABORTED') return cur.code;
    cur = cur.cause;
  }
  return undefined;
}

function mediaType(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  return contentType.split(';')[0].trim().toLowerCase() || undefined;
}

function acceptable(media: string, accept: string[]): boolean {
  return accept.some((a) => {
    const want = mediaType(a);
    if (!want) return false;
    if (want === '*/*' || want === media) return true;
    return want.endsWith('/*') && media.startsWith(want.slice(0, -1));
  });
}

/** Drops a body without reading it; the error its destruction emits is expected. */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function safeJsonParse(text: string): unknown {
  if (!/"(?:__proto__|constructor|prototype)"\s*:/.test(text)) return JSON.parse(text);
  return JSON.parse(text, (key, value) => (key === '__proto__' || key === 'constructor' || key === 'prototype' ? undefined : value));
}

export function createHttpClient(policy: HttpPolicy, opts: HttpClientOptions): ClosableHttpClient {
  const component = opts.component;
  const sleep = opts.sleep ?? abortableSleep;
  const now = opts.now ?? Date.now;
  const rng = opts.rng ?? Math.random;
  let ca: Buffer | undefined;
  if (policy.caFile) {
    try {
      ca = readFileSync(policy.caFile);
    } catch (e) {
      throw new StixgateError('STIXGATE_ERR_CONFIG_INVALID', `${component}: CA file ${policy.caFile} could not be read: ${(e as Error).message}`, { reason: 'ca_file' });
    }
  }
  const ownAgent = opts.dispatcher
    ? undefined
    : new Agent({
        headersTimeout: policy.headersTimeoutMs,
        bodyTimeout: policy.bodyTimeoutMs,
        connect: {
          rejectUnauthorized: policy.verifyTls,
          timeout: Math.min(10_000, policy.headersTimeoutMs),
          ...(ca ? { ca } : {}),
          ...(policy.allowPrivate ? {} : { lookup: guardedLookup(opts.resolver) as any }),
        },
      });
  const dispatcher: Dispatcher = opts.dispatcher ?? ownAgent!;

  const fail = (
    code: ErrorCode,
    what: string,
    url: string,
    reason: string,
    extra: { retryable?: boolean; retryAfterMs?: number; cause?: unknown; detail?: string } = {},
  ): StixgateError => {
    const { detail, ...rest } = extra;
    return new StixgateError(code, `${component}: ${what} ${redactUrl(url)}: ${detail ? `${detail} ` : ''}(${reason})`, { reason, ...rest });
  };

  /** Maps a transport error (undici, node, zlib) to a StixgateError. */
  function transportError(e: unknown, method: string, url: string, phase: 'headers' | 'body', timedOut: boolean, callerAborted: boolean): StixgateError {
    if (e instanceof StixgateError) return e;
    const what = `${method}`;
    if (callerAborted) return new StixgateError('STIXGATE_ERR_JOB_ABORTED', `${component}: ${what} ${redactUrl(url)}: aborted`, { reason: 'aborted', cause: e });
    if (timedOut) return fail('STIXGATE_ERR_HTTP_TIMEOUT', what, url, 'timeout_total', { retryable: true, cause: e });
    const code = errnoCode(e);
    switch (code) {
      case 'UND_ERR_HEADERS_TIMEOUT':
        return fail('STIXGATE_ERR_HTTP_TIMEOUT', what, url, 'timeout_headers', { retryable: true, cause: e });
      case 'UND_ERR_BODY_TIMEOUT':
        return fail('STIXGATE_ERR_HTTP_TIMEOUT', what, url, 'timeout_body', { retryable: true, cause: e });
      case 'UND_ERR_CONNECT_TIMEOUT':
        return fail('STIXGATE_ERR_HTTP_TIMEOUT', what, url, 'timeout_connect', { retryable: true, cause: e });
      case SSRF_LOOKUP_CODE:
        return fail('STIXGATE_ERR_HTTP_SSRF', what, url, 'ssrf', { cause: e });
      case 'ECONNREFUSED':
        return fail('STIXGATE_ERR_HTTP_NETWORK', what, url, 'refused', { retryable: true, cause: e });
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
      case 'EAI_FAIL':
        return fail('STIXGATE_ERR_HTTP_NETWORK', what, url, 'dns', { retryable: code !== 'EAI_FAIL', cause: e });
      case 'Z_DATA_ERROR':
      case 'Z_BUF_ERROR':
      case 'ERR_BROTLI_DECOMPRESSION_FAILED':
      case 'ERR__ERROR_FORMAT_PADDING_1':
        return fail('STIXGATE_ERR_INPUT_ENCODING', what, url, 'decompress', { cause: e });
    }
    if (code && (/^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_OSSL)/.test(code) || code === 'HOSTNAME_MISMATCH')) {
      return fail('STIXGATE_ERR_HTTP_NETWORK', what, url, 'tls', { cause: e });
    }
    if (phase === 'body' && /unexpected end of file/i.test((e as Error)?.message ?? '')) {
      return fail('STIXGATE_ERR_HTTP_NETWORK', what, url, 'reset', { retryable: true, cause: e });
    }
    // ECONNRESET, EPIPE, UND_ERR_SOCKET (closed mid-body), content-length mismatch, premature close
    return fail('STIXGATE_ERR_HTTP_NETWORK', what, url, 'reset', { retryable: true, cause: e });
  }

  function statusError(status: number, headers: Record<string, string>, method: string, url: string): StixgateError {
    const retryAfterMs = parseRetryAfter(headers['retry-after'], now());
    const detail = `status ${status}`;
    if (status === 429) return fail('STIXGATE_ERR_HTTP_STATUS', method, url, 'status_429', { retryable: true, retryAfterMs, detail });
    if (status >= 500) return fail('STIXGATE_ERR_HTTP_STATUS', method, url, 'status_5xx', { retryable: RETRY_STATUSES.has(status), retryAfterMs, detail });
    const hint = status === 401 || status === 403 ? ', check the credentials configured for this component' : '';
    return fail('STIXGATE_ERR_HTTP_STATUS', method, url, 'status_4xx', { detail: `${detail}${hint}` });
  }

  /** One attempt: follows same-origin redirects, returns once headers of the final response arrived. */
  async function attempt(req: HttpRequest): Promise<HttpResponse> {
    let method = req.method ?? 'GET';
    let body = req.body;
    let url = req.url;
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
    const cleanup = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(total);
      req.signal?.removeEventListener('abort', onCallerAbort);
    };
    const mapErr = (e: unknown, phase: 'headers' | 'body'): StixgateError =>
      transportError(e, method, url, phase, timedOut, !timedOut && req.signal?.aborted === true);

    try {
      const headers: Record<string, string> = { 'user-agent': 'stixgate', ...(req.accept ? { accept: req.accept.join(', ') } : {}) };
      for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
      headers['accept-encoding'] = 'gzip, deflate, br';
      for (let hop = 0; ; hop++) {
        const refused = checkUrl(url, policy);
        if (refused) throw fail('STIXGATE_ERR_HTTP_SSRF', method, url, 'ssrf', { detail: refused });
        let res: Dispatcher.ResponseData;
        try {
          res = await request(url, { dispatcher, method, headers, body, signal: ac.signal });
        } catch (e) {
          throw mapErr(e, 'headers');
        }
        const resHeaders = flattenHeaders(res.headers);
        if (REDIRECT_STATUSES.has(res.statusCode) && resHeaders.location) {
          await res.body.dump().catch(() => undefined);
          const from = new URL(url);
          let to: URL;
          try {
            to = new URL(resHeaders.location, from);
          } catch {
            throw fail('STIXGATE_ERR_HTTP_REDIRECT', method, url, 'redirect_cross_origin');
          }
          if (to.protocol !== 'https:' && to.protocol !== 'http:') throw fail('STIXGATE_ERR_HTTP_SSRF', method, url, 'ssrf', { detail: `redirect to ${to.protocol} refused` });
          if (from.protocol === 'https:' && to.protocol === 'http:') throw fail('STIXGATE_ERR_HTTP_REDIRECT', method, url, 'redirect_downgrade');
          if (to.origin !== from.origin || to.username || to.password) throw fail('STIXGATE_ERR_HTTP_REDIRECT', method, url, 'redirect_cross_origin', { detail: `to ${to.protocol}//${to.host}` });
          if (hop >= policy.maxRedirects) throw fail('STIXGATE_ERR_HTTP_REDIRECT', method, url, 'too_many_redirects');
          if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method !== 'GET' && method !== 'HEAD')) {
            method = method === 'HEAD' ? 'HEAD' : 'GET';
            body = undefined;
            delete headers['content-type'];
            delete headers['content-length'];
          }
          url = to.href;
          continue;
        }
        const ok = (res.statusCode >= 200 && res.statusCode < 300) || (req.okStatuses?.includes(res.statusCode) ?? false);
        if (!ok) {
          await res.body.dump().catch(() => undefined);
          throw statusError(res.statusCode, resHeaders, method, url);
        }
        if (req.accept && res.statusCode >= 200 && res.statusCode < 300 && res.statusCode !== 204 && method !== 'HEAD') {
          const got = mediaType(resHeaders['content-type']);
          if (got && !acceptable(got, req.accept)) {
            await res.body.dump().catch(() => undefined);
            const hint = got === 'text/html' ? ' (an SSO login page or proxy?)' : '';
            throw new StixgateError(
              'STIXGATE_ERR_HTTP_CONTENT_TYPE',
              `${component}: ${method} ${redactUrl(url)}: expected ${req.accept.map(mediaType).join(' or ')}, got ${got}${hint} (content_type)`,
              { reason: 'content_type' },
            );
          }
        }
        const encodings = (resHeaders['content-encoding'] ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '' && s !== 'identity');
        if (encodings.length > MAX_ENCODINGS) {
          discard(res.body);
          throw fail('STIXGATE_ERR_HTTP_CONTENT_TYPE', method, url, 'too_many_encodings');
        }
        const unknown = encodings.find((e) => !['gzip', 'x-gzip', 'deflate', 'br'].includes(e));
        if (unknown) {
          discard(res.body);
          throw fail('STIXGATE_ERR_HTTP_CONTENT_TYPE', method, url, 'unsupported_encoding', { detail: unknown });
        }
        return makeResponse(res, resHeaders, url, encodings, cleanup, (e) => mapErr(e, 'body'), method);
      }
    } catch (e) {
      cleanup();
      throw e;
    }
  }

  function makeResponse(
    res: Dispatcher.ResponseData,
    headers: Record<string, string>,
    url: string,
    encodings: string[],
    cleanup: () => void,
    mapErr: (e: unknown) => StixgateError,
    method: string,
  ): HttpResponse {
    let used = false;
    const take = (): void => {
      if (used) throw new Error(`${component}: response body of ${redactUrl(url)} already consumed`);
      used = true;
    };
    const tooLarge = (): StixgateError =>
      new StixgateError('STIXGATE_ERR_INPUT_TOO_LARGE', `${component}: ${method} ${redactUrl(url)}: body exceeds ${policy.maxBytes} bytes (too_large)`, { reason: 'too_large' });
    const counter = (): Transform => {
      let n = 0;
      return new Transform({
        transform(chunk: Buffer, _enc, cb) {
          n += chunk.length;
          if (n > policy.maxBytes) cb(tooLarge());
          else cb(null, chunk);
        },
      });
    };
    async function* iterate(): AsyncGenerator<Buffer> {
      if (encodings.length === 0) {
        // fast path: no decoder, count bytes inline
        let n = 0;
        try {
          for await (const chunk of res.body) {
            n += (chunk as Buffer).length;
            if (n > policy.maxBytes) throw tooLarge();
            yield chunk as Buffer;
          }
        } catch (e) {
          throw e instanceof StixgateError ? e : mapErr(e);
        } finally {
          discard(res.body);
          cleanup();
        }
        return;
      }
      const stages: NodeJS.ReadWriteStream[] = [counter()];
      for (const enc of [...encodings].reverse()) {
        stages.push(enc === 'br' ? createBrotliDecompress() : enc === 'deflate' ? createInflate() : createGunzip());
        stages.push(counter());
      }
      const out = (pipeline as any)(res.body, ...stages, () => undefined) as Readable;
      try {
        for await (const chunk of out) yield chunk as Buffer;
      } catch (e) {
        throw e instanceof StixgateError ? e : mapErr(e);
      } finally {
        out.destroy();
        res.body.destroy();
        cleanup();
      }
    }
    const readAll = async (): Promise<Buffer> => {
      const parts: Buffer[] = [];
      for await (const c of body) parts.push(c);
      return Buffer.concat(parts);
    };
    const body: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]() {
        take();
        return iterate();
      },
    };
    return {
      status: res.statusCode,
      headers,
      url,
      body,
      async text() {
        return new TextDecoder('utf-8').decode(await readAll());
      },
      async json() {
        const text = new TextDecoder('utf-8').decode(await readAll());
        try {
          return safeJsonParse(text);
        } catch (e) {
          throw new StixgateError('STIXGATE_ERR_INPUT_PARSE', `${component}: ${method} ${redactUrl(url)}: response is not valid JSON (json)`, { reason: 'json', cause: e });
        }
      },
      async dump() {
        take();
        try {
          await res.body.dump({ limit: 65536 });
        } catch {
          /* the connection is closed instead of reused */
        } finally {
          cleanup();
        }
      },
    };
  }

  return {
    async request(req: HttpRequest): Promise<HttpResponse> {
      const method = req.method ?? 'GET';
      const idempotent = req.idempotent ?? (method === 'GET' || method === 'HEAD');
      const maxAttempts = idempotent ? Math.max(1, policy.retry.maxAttempts) : 1;
      for (let n = 1; ; n++) {
        try {
          return await (opts.limiter ? opts.limiter.schedule(() => attempt(req)) : attempt(req));
        } catch (e) {
          if (!(e instanceof StixgateError) || !e.retryable || n >= maxAttempts || req.signal?.aborted) throw e;
          if (e.retryAfterMs !== undefined && e.retryAfterMs > policy.retry.maxRetryAfterMs) throw e; // the scheduler waits, not us
          const delay = e.retryAfterMs ?? backoffDelay(n, policy.retry.baseDelayMs, policy.retry.maxDelayMs, rng);
          opts.onRetry?.(e.reason);
          opts.logger?.debug({ component, reason: e.reason, attempt: n, delayMs: delay }, 'http retry');
          await sleep(delay, req.signal);
        }
      }
    },
    async close() {
      await ownAgent?.close();
    },
  };
}
