import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * `next` tokens (FAULTS A11): opaque to clients, and tamper-proof. A token is the paging state
 * (the change-log position reached) with what it is bound to (the reader's key, the collection,
 * the endpoint and the request's filters), authenticated with HMAC-SHA-256 under a key kept in
 * the data directory, so tokens stay valid across restarts and are refused for any other
 * reader, collection, endpoint or filter.
 */

const KEY_BYTES = 32;
const MAC_BYTES = 16;

export interface TokenState {
  /** Change-log position: the next page starts after this seq. */
  pos: number;
}

/** Loads the token key from `file`, creating it (mode 0600) the first time; memory only without a file. */
export function loadTokenKey(file: string | undefined): Buffer {
  if (file === undefined) return randomBytes(KEY_BYTES);
  try {
    const k = readFileSync(file);
    if (k.length === KEY_BYTES) return k;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirSync(dirname(file), { recursive: true });
  const k = randomBytes(KEY_BYTES);
  writeFileSync(file, k, { mode: 0o600 });
  return k;
}

export class TokenSigner {
  constructor(private readonly key: Buffer) {}

  private mac(binding: string, body: string): Buffer {
    return createHmac('sha256', this.key).update(binding).update('\n').update(body).digest().subarray(0, MAC_BYTES);
  }

  sign(state: TokenState, binding: string): string {
    const body = Buffer.from(JSON.stringify({ p: state.pos })).toString('base64url');
    return `${body}.${this.mac(binding, body).toString('base64url')}`;
  }

  /** The state of a token issued under `binding`, or undefined when it was not. */
  verify(token: string, binding: string): TokenState | undefined {
    const dot = token.indexOf('.');
    if (dot <= 0 || token.length > 512) return undefined;
    const body = token.slice(0, dot);
    const mac = Buffer.from(token.slice(dot + 1), 'base64url');
    const want = this.mac(binding, body);
    if (mac.length !== want.length || !timingSafeEqual(mac, want)) return undefined;
    try {
      const v = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { p?: unknown };
      return typeof v.p === 'number' && Number.isSafeInteger(v.p) && v.p >= 0 ? { pos: v.p } : undefined;
    } catch {
      return undefined;
    }
  }
}
