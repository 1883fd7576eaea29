import type { StixgateError } from '../core/errors.js';
import { decorate, headerValue, type Interceptor } from './handler.js';

/** Content codings the client decodes (through undici's decompress interceptor). */
export const KNOWN_ENCODINGS = ['gzip', 'x-gzip', 'deflate', 'br'];
/** More stacked codings than this are refused before any byte is decoded (a layered decompression bomb). */
export const MAX_ENCODINGS = 2;

/** Statuses whose bodies are decoded (decompress skips error responses, 204 and 304). */
function decodes(status: number): boolean {
  return status >= 200 && status < 400 && status !== 204 && status !== 304;
}

/** The content codings of a response, outermost last, `identity` dropped. */
export function encodingsOf(headers: Record<string, string | string[] | undefined>): string[] {
  return (headerValue(headers, 'content-encoding') ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'identity');
}

/**
 * Refuses a response the decoder should not see: more than MAX_ENCODINGS stacked codings or a
 * coding outside KNOWN_ENCODINGS (undici would pass it through undecoded). Sits inside
 * `decompress`, so it reads the headers as the server sent them.
 */
export function encodingGuard(
  refuse: (reason: 'too_many_encodings' | 'unsupported_encoding', detail?: string) => StixgateError,
): Interceptor {
  return (dispatch) => (opts, handler) =>
    dispatch(
      opts,
      decorate(handler, {
        onResponseStart(c, status, headers, message) {
          if (decodes(status)) {
            const encodings = encodingsOf(headers);
            if (encodings.length > MAX_ENCODINGS) throw refuse('too_many_encodings');
            const unknown = encodings.find((e) => !KNOWN_ENCODINGS.includes(e));
            if (unknown) throw refuse('unsupported_encoding', unknown);
          }
          return handler.onResponseStart?.(c, status, headers, message);
        },
      }),
    );
}

/**
 * Counts the body bytes passing this point and aborts the response once they exceed `limit`.
 * Composed twice: inside `decompress` (bytes on the wire) and outside (decoded bytes, so a
 * gzip bomb stops at the cap however small its compressed size).
 */
export function byteCap(limit: number, tooLarge: () => StixgateError): Interceptor {
  return (dispatch) => (opts, handler) => {
    let n = 0;
    return dispatch(
      opts,
      decorate(handler, {
        onResponseStart(c, status, headers, message) {
          n = 0; // a retried or redirected attempt starts again
          return handler.onResponseStart?.(c, status, headers, message);
        },
        onResponseData(c, chunk) {
          n += chunk.length;
          if (n > limit) throw tooLarge();
          return handler.onResponseData?.(c, chunk);
        },
      }),
    );
  };
}
