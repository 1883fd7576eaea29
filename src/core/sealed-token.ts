import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Opaque, tamper-proof tokens: `<base64url JSON payload>.<base64url HMAC-SHA-256>`, the MAC taken
 * over `binding + "\n" + body`, so a token is accepted only under the binding it was made for
 * (reader, collection, filters…). Used by the search cursors and the TAXII `next` tokens.
 */
export function sealToken(key: Buffer, binding: string, payload: unknown, macBytes = 32): string {
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${body}.${mac(key, binding, body, macBytes).toString('base64url')}`;
}

/** The payload sealed in `token` under `binding` (still to be checked by the caller), or undefined. */
export function openToken(
  key: Buffer,
  binding: string,
  token: string,
  opts: { maxLength: number; macBytes?: number },
): unknown {
  const dot = token.indexOf('.');
  if (dot <= 0 || token.length > opts.maxLength) return undefined;
  const body = token.slice(0, dot);
  const got = Buffer.from(token.slice(dot + 1), 'base64url');
  const want = mac(key, binding, body, opts.macBytes ?? 32);
  if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
  try {
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function mac(key: Buffer, binding: string, body: string, bytes: number): Buffer {
  return createHmac('sha256', key).update(binding).update('\n').update(body).digest().subarray(0, bytes);
}
