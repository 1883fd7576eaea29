import { StixgateError, type ErrorCode, type Location } from '../../core/errors.js';

/** Methods of the embedded store the writer thread answers (ThreadedStore → store-thread). */
export const THREAD_METHODS = [
  'ping', 'upsert', 'get', 'getMany', 'query', 'storedJsonOf', 'applyModified', 'expire', 'changes', 'head',
  'getCursor', 'setCursor', 'acquireLease', 'releaseLease', 'stats', 'indexEntries', 'activeIndicators', 'keyIndexStats', 'close',
] as const;
export type ThreadMethod = (typeof THREAD_METHODS)[number];

/**
 * A call. `part` carries a slice of an upsert's items: the writer collects the slices of call `id`
 * and runs the upsert when the call itself (with the last slice) arrives.
 */
export type ThreadCall =
  | { id: number; method: ThreadMethod; args: unknown[] }
  | { id: number; part: unknown[] };

export type ThreadReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: EncodedError };

export interface EncodedError {
  name: string;
  message: string;
  stixgate?: { code: ErrorCode; reason: string; retryable: boolean; retryAfterMs?: number; location?: Location };
}

export function encodeError(e: unknown): EncodedError {
  if (e instanceof StixgateError) {
    return {
      name: e.name, message: e.message,
      stixgate: { code: e.code, reason: e.reason, retryable: e.retryable, ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}), ...(e.location ? { location: e.location } : {}) },
    };
  }
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

/** The error as the caller's thread sees it: a StixgateError keeps its code, reason and location. */
export function decodeError(e: EncodedError): Error {
  if (e.stixgate) {
    const s = e.stixgate;
    // the message already names the location: it is set after construction, not formatted again
    const err = new StixgateError(s.code, e.message, { reason: s.reason, retryable: s.retryable, retryAfterMs: s.retryAfterMs });
    if (s.location) Object.assign(err, { location: s.location });
    return err;
  }
  const Ctor = e.name === 'TypeError' ? TypeError : e.name === 'RangeError' ? RangeError : Error;
  const err = new Ctor(e.message);
  if (err.name !== e.name) err.name = e.name;
  return err;
}
