import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * API-key authentication of the XSOAR simulator (Cortex XSOAR's REST API documentation):
 *
 * * XSOAR 6 paths: `Authorization: <key>` (the raw key, no scheme) of a standard key. A bad key is
 *   answered 403 with XSOAR's CSRF-style body.
 * * XSOAR 8 paths (`/xsoar/…`, `/xsoar/public/v1/…`): `x-xdr-auth-id: <key id>` plus, for a
 *   standard key, `Authorization: <key>`; for an advanced key `x-xdr-nonce` (64 alphanumerics),
 *   `x-xdr-timestamp` (epoch ms) and `Authorization` = hex SHA-256 of key + nonce + timestamp.
 *   Stale timestamps (outside `skewMs`) are refused with 401, and so are reused nonces when
 *   `rejectReusedNonce` (off by default: whether XSOAR remembers nonces is not documented).
 */

export interface ApiKey {
  key: string;
  /** The key id sent as `x-xdr-auth-id` on XSOAR 8 (default 1). */
  id?: number;
  type?: 'standard' | 'advanced';
}

export type AuthResult =
  | { ok: true; keyId: number; scheme: 'v6' | 'standard' | 'advanced' }
  | { ok: false; status: number; detail: string; error: string };

const eq = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export function advancedHash(key: string, nonce: string, timestamp: string): string {
  return createHash('sha256').update(`${key}${nonce}${timestamp}`).digest('hex');
}

export class KeyRing {
  private readonly seenNonces = new Map<string, number>();

  constructor(
    readonly keys: Required<ApiKey>[],
    readonly revoked: Set<string>,
    private readonly skewMs: number,
    private readonly now: () => number,
    private readonly rejectReusedNonce = false,
  ) {}

  check(h: IncomingHttpHeaders, v8: boolean): AuthResult {
    const authz = typeof h.authorization === 'string' ? h.authorization.trim() : '';
    if (!v8) {
      const k = this.keys.find((x) => x.type === 'standard' && !this.revoked.has(x.key) && eq(x.key, authz));
      return k
        ? { ok: true, keyId: k.id, scheme: 'v6' }
        : { ok: false, status: 403, detail: 'Issue with CSRF code', error: 'http: named cookie not present' };
    }
    const idHeader = typeof h['x-xdr-auth-id'] === 'string' ? h['x-xdr-auth-id'] : '';
    const deny = (error: string): AuthResult => ({
      ok: false,
      status: 401,
      detail: 'Public API request unauthorized',
      error,
    });
    if (!idHeader) return deny('missing x-xdr-auth-id header');
    const k = this.keys.find((x) => String(x.id) === idHeader);
    if (!k || this.revoked.has(k.key)) return deny('invalid API key id or key');
    if (k.type === 'standard')
      return eq(k.key, authz) ? { ok: true, keyId: k.id, scheme: 'standard' } : deny('invalid API key id or key');
    const nonce = typeof h['x-xdr-nonce'] === 'string' ? h['x-xdr-nonce'] : '';
    const ts = typeof h['x-xdr-timestamp'] === 'string' ? h['x-xdr-timestamp'] : '';
    if (!/^[A-Za-z0-9]{64}$/.test(nonce)) return deny('x-xdr-nonce must be 64 alphanumeric characters');
    if (!/^\d{13}$/.test(ts)) return deny('x-xdr-timestamp must be epoch milliseconds');
    const now = this.now();
    if (Math.abs(now - Number(ts)) > this.skewMs) return deny('x-xdr-timestamp is outside the allowed window');
    if (!eq(advancedHash(k.key, nonce, ts), authz.toLowerCase())) return deny('invalid API key hash');
    if (this.rejectReusedNonce) {
      this.prune(now);
      if (this.seenNonces.has(nonce)) return deny('x-xdr-nonce was already used');
      this.seenNonces.set(nonce, Number(ts));
    }
    return { ok: true, keyId: k.id, scheme: 'advanced' };
  }

  /** Nonces only need remembering within the timestamp window: memory stays bounded. */
  private prune(now: number): void {
    if (this.seenNonces.size < 10_000) return;
    for (const [n, t] of this.seenNonces) if (Math.abs(now - t) > this.skewMs) this.seenNonces.delete(n);
  }
}
