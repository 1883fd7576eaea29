import { randomBytes } from 'node:crypto';
import { openToken, sealToken } from '../core/sealed-token.js';

/**
 * Opaque, tamper-proof paging cursors: the store position to resume after, bound to the filter
 * and the reader's ceiling it was made for, sealed with an HMAC-SHA256. A cursor that was altered,
 * made for another filter or another ceiling, or sealed with another key is refused (never read
 * as a position), so a client cannot page past what its query selects.
 */

const VERSION = 'c1';

export interface CursorScope {
  /** `filterKey` of the filter. */
  filter: string;
  /** The reader's ceiling. */
  ceiling: string;
}

export class CursorSealer {
  private readonly key: Buffer;

  /** `secret` shared by every instance that serves one store; a random one per process otherwise. */
  constructor(secret?: string | Buffer) {
    this.key = secret === undefined ? randomBytes(32) : Buffer.from(secret);
  }

  seal(position: string, scope: CursorScope): string {
    return sealToken(this.key, binding(scope), [VERSION, position]);
  }

  /** The position sealed in `token`, or undefined when it is not a cursor this key made for `scope`. */
  open(token: string, scope: CursorScope): string | undefined {
    const v = openToken(this.key, binding(scope), token, { maxLength: 2048 });
    return Array.isArray(v) && v.length === 2 && v[0] === VERSION && typeof v[1] === 'string' ? v[1] : undefined;
  }
}

const binding = (scope: CursorScope): string => `${VERSION}\n${scope.ceiling}\n${scope.filter}`;
