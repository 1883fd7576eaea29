/**
 * Exponential back-off with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * a uniformly random delay in [0, min(max, base * 2^(attempt-1))). `attempt` counts retries from 1.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, rng: () => number = Math.random): number {
  return Math.floor(rng() * backoffWindow(attempt, baseMs, maxMs));
}

/**
 * The exponential window without jitter: min(max, base * 2^(attempt-1)), `attempt` counted from 1.
 * Used as is where the wait must be predictable (the scheduler's run spacing after failures,
 * polling a vendor's asynchronous task) and as the jitter's bound by backoffDelay.
 */
export function backoffWindow(attempt: number, baseMs: number, maxMs: number): number {
  const exp = Math.min(Math.max(attempt, 1) - 1, 52);
  return Math.max(0, Math.min(maxMs, baseMs * 2 ** exp));
}

/**
 * Parses a `Retry-After` header (RFC 9110 §10.2.3): delta-seconds or an HTTP-date. Returns the
 * wait in milliseconds from `nowMs` (0 for a date in the past), or undefined when unparseable.
 */
export function parseRetryAfter(value: string | undefined | null, nowMs: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+$/.test(v)) {
    const secs = Number(v);
    return Number.isSafeInteger(secs * 1000) ? secs * 1000 : undefined;
  }
  // HTTP-date: IMF-fixdate, RFC 850 or asctime. All carry a month or weekday name.
  if (!/[a-z]{3}/i.test(v)) return undefined;
  const at = Date.parse(/GMT|UTC|[+-]\d{4}$/i.test(v) ? v : `${v} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Sleeps `ms`, rejecting with the signal's reason when it aborts first. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
