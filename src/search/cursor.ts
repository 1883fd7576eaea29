import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

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
    const body = Buffer.from(JSON.stringify([VERSION, position]), 'utf8').toString('base64url');
    return `${body}.${this.mac(body, scope).toString('base64url')}`;
  }

  /** The position sealed in `token`, or undefined when it is not a cursor this key made for `scope`. */
  open(token: string, scope: CursorScope): string | undefined {
    const dot = token.indexOf('.');
    if (dot <= 0 || token.length > 2048) return undefined;
    const body = token.slice(0, dot);
    const mac = Buffer.from(token.slice(dot + 1), 'base64url');
    const want = this.mac(body, scope);
    if (mac.length !== want.length || !timingSafeEqual(mac, want)) return undefined;
    try {
      const v = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
      return Array.isArray(v) && v.length === 2 && v[0] === VERSION && typeof v[1] === 'string' ? v[1] : undefined;
    } catch {
      return undefined;
    }
  }

  private mac(body: string, scope: CursorScope): Buffer {
    return createHmac('sha256', this.key).update(`${VERSION}\n${scope.ceiling}\n${scope.filter}\n${body}`).digest();
  }
}
