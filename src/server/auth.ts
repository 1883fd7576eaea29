import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import type { TlpLevel } from '../core/stix.js';
import { ApiError, UNAUTHORIZED_MESSAGE } from './errors.js';
import { networkMatcher } from './networks.js';
import { type RateLimiter, retryAfterSecs } from './rate-limit.js';
import type { ApiKeyConfig, ApiScope } from './schema.js';

/** Who is calling: a configured key (by id) or the anonymous caller. */
export interface Principal {
  /** The configured key id; null for anonymous lookups. Never the key itself. */
  keyId: string | null;
  scopes: ReadonlySet<ApiScope>;
  maxTlp: TlpLevel;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/**
 * The caller of a route guarded by `ApiAuth.require` (its hook sets the principal before the
 * handler runs, or answers the request itself). A handler reached without one is wired wrongly:
 * a 500, never an anonymous answer.
 */
export function principalOf(req: FastifyRequest): Principal {
  const p = req.principal;
  if (!p) throw new ApiError(500, 'STIXGATE_ERR_API_INTERNAL', 'the route ran without its authentication hook');
  return p;
}

/** What identifying a caller reads of a request (a fastify request, or node's on the lean path). */
export type Caller = Pick<FastifyRequest, 'headers' | 'ip'>;

const MAX_KEY_LENGTH = 512;
const BEARER_RE = /^Bearer +([^\s]+) *$/i;

interface StoredKey {
  id: string;
  digest: Buffer;
  scopes: ReadonlySet<ApiScope>;
  maxTlp: TlpLevel;
  /** Epoch ms from which the key is refused (none: never). */
  expiresAt?: number;
  /** Addresses the key is accepted from (none: anywhere). */
  allowedFrom?: (ip: string) => boolean;
}

/**
 * API-key authentication. Keys are configured as SHA-256 hashes; a presented key is hashed and
 * compared with every configured hash with `timingSafeEqual` (no early exit), so neither the
 * timing nor the answer tells an unknown key from a malformed one.
 */
export class Authenticator {
  private readonly keys: StoredKey[];

  constructor(
    keys: Record<string, ApiKeyConfig>,
    private readonly anonymousLookup: boolean,
    private readonly limiter?: RateLimiter,
    private readonly now: () => number = Date.now,
  ) {
    this.keys = Object.entries(keys).map(([id, k]) => ({
      id,
      digest: Buffer.from(k.hash.slice('sha256:'.length), 'hex'),
      scopes: new Set(k.scopes),
      maxTlp: k.max_tlp,
      expiresAt: k.expires !== undefined ? Date.parse(k.expires) : undefined,
      allowedFrom: networkMatcher(k.allowed_networks ?? []),
    }));
  }

  /**
   * The principal for the request's key; undefined when no key was presented; null when the key
   * is unknown, malformed, expired or presented from an address it is not allowed from (one
   * answer for all of these, so a caller cannot tell which keys exist).
   */
  identify(req: Caller, basic = false): Principal | null | undefined {
    const credentials = presentedKey(req, basic);
    if (credentials === undefined) return undefined;
    if (credentials === null) return null;
    return this.identifyKey(credentials.key, req.ip, credentials.user);
  }

  /**
   * The principal of a key given as text (the console's login form), under the same checks as a
   * key in a header; null for an unknown, malformed, expired or out-of-network key. `user`, when
   * given (Basic credentials), must be the key's id.
   */
  identifyKey(presented: string, ip: string, user?: string): Principal | null {
    if (!presented || presented.length > MAX_KEY_LENGTH) return null;
    const digest = hash('sha256', presented, 'buffer');
    let found: StoredKey | undefined;
    for (const k of this.keys) {
      if (timingSafeEqual(digest, k.digest) && !found) found = k;
    }
    if (!found) return null;
    if (user !== undefined && user !== found.id) return null;
    return this.usable(found, ip);
  }

  /**
   * The principal of configured key `id` (a console session names its key by id and is sealed
   * under the key's hash, `digestOf`, so a key removed or re-hashed ends it), under the same
   * expiry and network checks as a presented key.
   */
  identifyById(id: string, ip: string): Principal | null {
    const found = this.keys.find((k) => k.id === id);
    return found ? this.usable(found, ip) : null;
  }

  /** The configured hash of key `id` (hex), which a console session is bound to; never sent to a client. */
  digestOf(id: string): string | undefined {
    return this.keys.find((k) => k.id === id)?.digest.toString('hex');
  }

  private usable(found: StoredKey, ip: string): Principal | null {
    if (found.expiresAt !== undefined && this.now() >= found.expiresAt) return null;
    if (found.allowedFrom && !found.allowedFrom(ip)) return null;
    return { keyId: found.id, scopes: found.scopes, maxTlp: found.maxTlp };
  }

  /** Whether callers without a key are admitted where a route allows them (`anonymous_lookup`). */
  get anonymousAllowed(): boolean {
    return this.anonymousLookup;
  }

  /**
   * The caller for `scope`, and the error to answer with when it is refused: 401 without a valid
   * key (unless `anonymous` admits a caller without one), 429 over the key's rate, 403 without
   * the scope. A refused known key is still returned (the audit line names it).
   */
  admit(
    req: FastifyRequest,
    scope: ApiScope,
    anonymous: boolean,
    basic = false,
  ): { principal: Principal | null; error?: ApiError } {
    const p = this.identify(req, basic);
    if (p === undefined && anonymous && this.anonymousLookup) return { principal: ANONYMOUS };
    const challenge = basic
      ? 'Bearer realm="stixgate", Basic realm="stixgate", charset="UTF-8"'
      : 'Bearer realm="stixgate"';
    if (!p)
      return {
        principal: null,
        error: new ApiError(401, 'STIXGATE_ERR_API_UNAUTHORIZED', UNAUTHORIZED_MESSAGE, {
          'www-authenticate': challenge,
        }),
      };
    return { principal: p, error: this.authorize(p, scope) };
  }

  /** For an identified key: 429 over its rate, 403 without `scope`, else nothing. */
  authorize(p: Principal, scope: ApiScope): ApiError | undefined {
    // an identified key: the anonymous caller is never authorised here (admit answers it first)
    const wait = p.keyId === null ? 0 : (this.limiter?.takeKey(p.keyId) ?? 0);
    if (wait > 0) return rateLimited(wait, 'this API key');
    if (!p.scopes.has(scope))
      return new ApiError(403, 'STIXGATE_ERR_API_FORBIDDEN', `this API key lacks the "${scope}" scope`);
    return undefined;
  }

  /**
   * An onRequest hook (runs before the body is read) requiring `scope`. Callback style, not
   * async: it runs on every lookup, and a promise per request is measurable there.
   */
  require(scope: ApiScope, opts: { basic?: boolean } = {}): onRequestHookHandler & { scope: ApiScope; basic: boolean } {
    const basic = opts.basic === true;
    // tagged with its scope (and whether Basic credentials are taken), which the API description (openapi.ts) reads
    return Object.assign(
      (req: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
        const { principal, error } = this.admit(req, scope, scope === 'lookup', basic);
        req.principal = principal;
        done(error);
      },
      { scope, basic },
    );
  }
}

/** A 429 answer with Retry-After. */
export function rateLimited(waitMs: number, who: string): ApiError {
  const secs = retryAfterSecs(waitMs);
  return new ApiError(429, 'STIXGATE_ERR_API_RATE_LIMITED', `too many requests from ${who}; retry after ${secs} s`, {
    'retry-after': String(secs),
  });
}

/** The anonymous caller (when `anonymous_lookup` is on): TLP:CLEAR only, on the routes that admit it. Shared, immutable. */
const ANONYMOUS: Principal = Object.freeze({
  keyId: null,
  scopes: new Set<ApiScope>(['lookup']),
  maxTlp: 'clear',
});

/**
 * The key from `Authorization: Bearer`, `X-Api-Key` or (where `basic` is allowed) `Authorization:
 * Basic` with the key id as user and the key as password; null when present but malformed or
 * conflicting (Basic where it is not allowed is malformed).
 */
function presentedKey(req: Caller, basic: boolean): { key: string; user?: string } | null | undefined {
  const auth = req.headers.authorization;
  const xkey = req.headers['x-api-key'];
  let fromAuth: { key: string; user?: string } | null | undefined;
  if (auth !== undefined) {
    const bearer = BEARER_RE.exec(auth)?.[1];
    fromAuth = bearer !== undefined ? { key: bearer } : basic ? basicCredentials(auth) : null;
  }
  let fromHeader: { key: string } | null | undefined;
  if (xkey !== undefined) fromHeader = typeof xkey === 'string' ? { key: xkey.trim() } : null;
  if (fromAuth === undefined) return fromHeader;
  if (fromHeader === undefined) return fromAuth;
  return fromAuth !== null && fromHeader !== null && fromAuth.key === fromHeader.key && fromAuth.user === undefined
    ? fromAuth
    : null;
}

const BASIC_RE = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i;

/** `Basic base64(user:password)` → the password as the key and the user; null when malformed. */
function basicCredentials(auth: string): { key: string; user: string } | null {
  const b64 = BASIC_RE.exec(auth)?.[1];
  if (b64 === undefined || b64.length > 4 * MAX_KEY_LENGTH) return null;
  const text = Buffer.from(b64, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return null;
  return { user: text.slice(0, colon), key: text.slice(colon + 1) };
}
