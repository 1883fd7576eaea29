import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import type { TlpLevel } from '../core/stix.js';
import { ApiError, UNAUTHORIZED_MESSAGE } from './errors.js';
import { networkMatcher } from './networks.js';
import { RateLimiter, retryAfterSecs } from './rate-limit.js';
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
   * is unknown, malformed, expired or presented from an address it is not allowed from (FAULTS
   * A1: one answer for all of these, so none can be told apart).
   */
  identify(req: FastifyRequest): Principal | null | undefined {
    const presented = presentedKey(req);
    if (presented === undefined) return undefined;
    if (presented === null || presented.length === 0 || presented.length > MAX_KEY_LENGTH) return null;
    const digest = hash('sha256', presented, 'buffer');
    let found: StoredKey | undefined;
    for (const k of this.keys) {
      if (timingSafeEqual(digest, k.digest) && !found) found = k;
    }
    if (!found) return null;
    if (found.expiresAt !== undefined && this.now() >= found.expiresAt) return null;
    if (found.allowedFrom && !found.allowedFrom(req.ip)) return null;
    return { keyId: found.id, scopes: found.scopes, maxTlp: found.maxTlp };
  }

  /**
   * An onRequest hook (runs before the body is read) requiring `scope`. Callback style, not
   * async: it runs on every lookup, and a promise per request is measurable there.
   */
  require(scope: ApiScope): onRequestHookHandler & { scope: ApiScope } {
    // tagged with its scope, which the API description (openapi.ts) reads
    return Object.assign((req: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
      const p = this.identify(req);
      if (p === undefined && scope === 'lookup' && this.anonymousLookup) {
        req.principal = ANONYMOUS;
        return done();
      }
      if (!p) return done(new ApiError(401, 'STIXGATE_ERR_API_UNAUTHORIZED', UNAUTHORIZED_MESSAGE, { 'www-authenticate': 'Bearer realm="stixgate"' }));
      req.principal = p;
      const wait = this.limiter?.takeKey(p.keyId!) ?? 0;
      if (wait > 0) return done(rateLimited(wait, 'this API key'));
      if (!p.scopes.has(scope)) return done(new ApiError(403, 'STIXGATE_ERR_API_FORBIDDEN', `this API key lacks the "${scope}" scope`));
      done();
    }, { scope });
  }
}

/** A 429 answer with Retry-After (FAULTS A9). */
export function rateLimited(waitMs: number, who: string): ApiError {
  const secs = retryAfterSecs(waitMs);
  return new ApiError(429, 'STIXGATE_ERR_API_RATE_LIMITED', `too many requests from ${who}; retry after ${secs} s`, { 'retry-after': String(secs) });
}

/** The anonymous caller (when `anonymous_lookup` is on): lookups only, TLP:CLEAR only. Shared, immutable. */
const ANONYMOUS: Principal = Object.freeze({ keyId: null, scopes: new Set<ApiScope>(['lookup']), maxTlp: 'clear' as TlpLevel });

/** The key from `Authorization: Bearer` or `X-Api-Key`; null when present but malformed or conflicting. */
function presentedKey(req: FastifyRequest): string | null | undefined {
  const auth = req.headers.authorization;
  const xkey = req.headers['x-api-key'];
  let fromAuth: string | null | undefined;
  if (auth !== undefined) fromAuth = BEARER_RE.exec(auth)?.[1] ?? null;
  let fromHeader: string | null | undefined;
  if (xkey !== undefined) fromHeader = typeof xkey === 'string' ? xkey.trim() : null;
  if (fromAuth === undefined) return fromHeader;
  if (fromHeader === undefined) return fromAuth;
  return fromAuth !== null && fromAuth === fromHeader ? fromAuth : null;
}
