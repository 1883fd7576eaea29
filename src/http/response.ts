import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { StixgateError } from '../core/errors.js';
import { safeJsonParse } from '../core/safe-json.js';
import { redactUrl } from './ssrf.js';
import type { HttpResponse } from './types.js';

/** Drops a body without reading it; the error its destruction emits is expected. */
export function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

export function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export interface ResponseContext {
  component: string;
  method: string;
  url: string;
  /** Maps a body error (transport, decoder, cap) to the client's error. */
  mapError(e: unknown): StixgateError;
  /** Ends the exchange: clears the total deadline and the caller's abort listener. */
  done(): void;
}

/** The caller's view of a response: the (already decoded and capped) body, consumable once. */
export function wrapResponse(
  res: Dispatcher.ResponseData,
  headers: Record<string, string>,
  r: ResponseContext,
): HttpResponse {
  let used = false;
  const take = (): void => {
    if (used) throw new Error(`${r.component}: response body of ${redactUrl(r.url)} already consumed`);
    used = true;
  };
  async function* iterate(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of res.body) yield chunk as Buffer;
    } catch (e) {
      throw r.mapError(e);
    } finally {
      discard(res.body);
      r.done();
    }
  }
  const body: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]() {
      take();
      return iterate();
    },
  };
  const readAll = async (): Promise<Buffer> => {
    const parts: Buffer[] = [];
    for await (const c of body) parts.push(c);
    return Buffer.concat(parts);
  };
  return {
    status: res.statusCode,
    headers,
    url: r.url,
    body,
    async text() {
      return new TextDecoder('utf-8').decode(await readAll());
    },
    async json() {
      const text = new TextDecoder('utf-8').decode(await readAll());
      const parsed = safeJsonParse(text);
      if (!parsed.ok) {
        throw new StixgateError(
          'STIXGATE_ERR_INPUT_PARSE',
          `${r.component}: ${r.method} ${redactUrl(r.url)}: response is not valid JSON: ${parsed.message} (json)`,
          { reason: 'json' },
        );
      }
      return parsed.value;
    },
    async dump() {
      take();
      try {
        await res.body.dump({ limit: 65536 });
      } catch {
        /* the connection is closed instead of reused */
      } finally {
        r.done();
      }
    },
  };
}
