import { type Dispatcher, interceptors } from 'undici';
import type Bottleneck from 'bottleneck';
import type { StixgateError } from '../core/errors.js';
import { backoffDelay } from '../core/backoff.js';
import { RETRY_STATUSES } from './errors.js';
import { decorate, type Interceptor } from './handler.js';
import type { RetryPolicy } from './types.js';

export interface RetryContext {
  policy: RetryPolicy;
  /** Whether this request may be sent again (GET/HEAD, or declared idempotent). */
  idempotent: boolean;
  /** Statuses the caller handles itself: returned, never retried. */
  okStatuses?: number[];
  /** Maps what undici reports (a transport error, or a retryable status) to our error. */
  classify(err: unknown): StixgateError;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  rng(): number;
  signal: AbortSignal;
  onRetry(e: StixgateError, attempt: number, delayMs: number): void;
}

/**
 * undici's retry interceptor driven by our policy: up to `maxAttempts` attempts for idempotent
 * requests, full-jitter back-off, `Retry-After` honoured exactly when it is within
 * `maxRetryAfterMs` (a longer wait ends the request with the error carrying `retryAfterMs`, for
 * the scheduler to honour). Only failures before the response headers are retried here: a body
 * cut after the headers is reported (the caller retries the whole document on its next run).
 */
export function retryInterceptor(r: RetryContext): Interceptor {
  let attempt = 1;
  return interceptors.retry({
    statusCodes: RETRY_STATUSES.filter((s) => !r.okStatuses?.includes(s)),
    resume: false,
    throwOnError: true,
    retry(err, _state, cb) {
      const e = r.classify(err);
      const give =
        !r.idempotent ||
        !e.retryable ||
        attempt >= r.policy.maxAttempts ||
        r.signal.aborted ||
        (e.retryAfterMs !== undefined && e.retryAfterMs > r.policy.maxRetryAfterMs);
      if (give) {
        cb(err as Error);
        return;
      }
      const delay = e.retryAfterMs ?? backoffDelay(attempt, r.policy.baseDelayMs, r.policy.maxDelayMs, r.rng);
      r.onRetry(e, attempt, delay);
      attempt++;
      r.sleep(delay, r.signal).then(
        () => cb(null),
        (abort: unknown) => cb(abort as Error),
      );
    },
  });
}

/** The controller handed with an error raised before the request was dispatched: already settled, nothing to pause or abort. */
function settledController(reason: Error): Dispatcher.DispatchController {
  return {
    aborted: false,
    paused: false,
    reason,
    abort: () => undefined,
    pause: () => undefined,
    resume: () => undefined,
  };
}

/**
 * Each attempt takes a slot of the limiter until its response headers (or its error) arrive;
 * back-off sleeps between attempts happen outside the slot.
 */
export function limiterInterceptor(limiter: Bottleneck): Interceptor {
  return (dispatch) => (opts, handler) => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const wrapped = decorate(handler, {
      onResponseStart(c, status, headers, message) {
        release();
        return handler.onResponseStart?.(c, status, headers, message);
      },
      onResponseError(c, e) {
        release();
        handler.onResponseError?.(c, e);
      },
    });
    limiter
      .schedule(() => {
        dispatch(opts, wrapped);
        return held;
      })
      .catch((e: Error) => handler.onResponseError?.(settledController(e), e));
    return true;
  };
}
