import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { openToken, sealToken } from '../../core/sealed-token.js';
import { errorCode, isRecord } from '../../core/guards.js';

/**
 * `next` tokens: opaque to clients, and tamper-proof. A token is the paging state
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
    if (errorCode(e) !== 'ENOENT') throw e;
  }
  mkdirSync(dirname(file), { recursive: true });
  const k = randomBytes(KEY_BYTES);
  writeFileSync(file, k, { mode: 0o600 });
  return k;
}

export class TokenSigner {
  constructor(private readonly key: Buffer) {}

  sign(state: TokenState, binding: string): string {
    return sealToken(this.key, binding, { p: state.pos }, MAC_BYTES);
  }

  /** The state of a token issued under `binding`, or undefined when it was not. */
  verify(token: string, binding: string): TokenState | undefined {
    const v = openToken(this.key, binding, token, { maxLength: 512, macBytes: MAC_BYTES });
    return isRecord(v) && typeof v.p === 'number' && Number.isSafeInteger(v.p) && v.p >= 0 ? { pos: v.p } : undefined;
  }
}
