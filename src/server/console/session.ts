import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { openToken, sealToken } from '../../core/sealed-token.js';

/**
 * Console sign-ins (docs/console.md, docs/access.md "Console"). A browser cannot send an API key
 * in a header on a plain navigation, so the sign-in form exchanges the key once for a session
 * cookie: a sealed token (src/core/sealed-token.ts) naming the key by id, with its expiry and a
 * random nonce, sealed under the key's configured hash. The key itself is never in the cookie.
 * Removing or re-hashing the key, its expiry or its networks end every session made with it.
 *
 * Forms that change something (sign-out, run, pause, resume) carry a CSRF token: an HMAC of the
 * session cookie, so a page of this console is the only place a valid one is found. The sign-in
 * form has its own, tied to a short-lived pre-sign-in cookie (login CSRF).
 */

export const SESSION_COOKIE = 'stixgate_console';
export const LOGIN_COOKIE = 'stixgate_console_login';
export const COOKIE_PATH = '/console';
const VERSION = 's1';
const MAX_TOKEN = 1024;
/** How long a sign-in form stays usable. */
export const LOGIN_TTL_SECS = 900;

export interface Session {
  keyId: string;
  /** Epoch ms after which the session is refused. */
  expires: number;
}

export class ConsoleSessions {
  private readonly key: Buffer;

  /** `secret` shared by every instance behind one address; a random one per process otherwise. */
  constructor(
    secret: string | undefined,
    readonly ttlSecs: number,
    private readonly now: () => number,
  ) {
    this.key = secret === undefined ? randomBytes(32) : Buffer.from(secret);
  }

  /** A cookie value for key `keyId` whose configured hash is `digest`. */
  seal(keyId: string, digest: string): string {
    const expires = this.now() + this.ttlSecs * 1000;
    return sealToken(this.key, binding(keyId, digest), [
      VERSION,
      keyId,
      expires,
      randomBytes(12).toString('base64url'),
    ]);
  }

  /**
   * The session in a cookie value, or undefined when it is not one this key sealed, has expired,
   * or was sealed under another hash of its key (`digestOf` gives the current one).
   */
  open(cookie: string, digestOf: (keyId: string) => string | undefined): Session | undefined {
    const keyId = claimedKey(cookie);
    const digest = keyId === undefined ? undefined : digestOf(keyId);
    if (keyId === undefined || digest === undefined) return undefined;
    const v = openToken(this.key, binding(keyId, digest), cookie, { maxLength: MAX_TOKEN });
    if (!Array.isArray(v) || v.length !== 4 || v[0] !== VERSION || v[1] !== keyId || typeof v[2] !== 'number')
      return undefined;
    if (this.now() >= v[2]) return undefined;
    return { keyId, expires: v[2] };
  }

  /** The CSRF token of the forms of a session (or of a sign-in form, from its pre-sign-in nonce). */
  csrf(purpose: 'session' | 'login', cookie: string): string {
    return createHmac('sha256', this.key).update(`console-csrf\n${purpose}\n`).update(cookie).digest('base64url');
  }

  /** True when `token` is the CSRF token of `cookie` (constant time). */
  checkCsrf(purpose: 'session' | 'login', cookie: string | undefined, token: unknown): boolean {
    if (cookie === undefined || typeof token !== 'string' || token.length > 100) return false;
    const want = Buffer.from(this.csrf(purpose, cookie));
    const got = Buffer.from(token);
    return got.length === want.length && timingSafeEqual(got, want);
  }

  /** A fresh pre-sign-in nonce with its expiry, for the sign-in form's cookie. */
  loginNonce(): string {
    return sealToken(
      this.key,
      'console-login',
      [VERSION, this.now() + LOGIN_TTL_SECS * 1000, randomBytes(12).toString('base64url')],
      16,
    );
  }

  /** True when `nonce` is a pre-sign-in nonce of this key that has not expired. */
  loginNonceValid(nonce: string | undefined): boolean {
    if (nonce === undefined) return false;
    const v = openToken(this.key, 'console-login', nonce, { maxLength: 200, macBytes: 16 });
    return Array.isArray(v) && v.length === 3 && v[0] === VERSION && typeof v[1] === 'number' && this.now() < v[1];
  }
}

const binding = (keyId: string, digest: string): string => `console-session\n${VERSION}\n${keyId}\n${digest}`;

/** The key id a cookie claims (read before its seal is checked, to find the hash it must be sealed under). */
function claimedKey(cookie: string): string | undefined {
  const dot = cookie.indexOf('.');
  if (dot <= 0 || cookie.length > MAX_TOKEN) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(cookie.slice(0, dot), 'base64url').toString('utf8'));
    return Array.isArray(v) && typeof v[1] === 'string' ? v[1] : undefined;
  } catch {
    return undefined;
  }
}

/** Cookie attributes: HttpOnly, SameSite=Strict, the console's path only, Secure when the request came over HTTPS. */
export function cookieOptions(req: FastifyRequest, maxAgeSecs: number) {
  return {
    path: COOKIE_PATH,
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: req.protocol === 'https',
    maxAge: maxAgeSecs,
  };
}

export const loginCookieOptions = (req: FastifyRequest) => cookieOptions(req, LOGIN_TTL_SECS);
