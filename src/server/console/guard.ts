import type {
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  onRequestHookHandler,
  preHandlerHookHandler,
} from 'fastify';
import { isRecord } from '../../core/guards.js';
import { ApiError, UNAUTHORIZED_MESSAGE } from '../errors.js';
import { principalOf, type Authenticator, type Principal } from '../auth.js';
import type { ApiScope } from '../schema.js';
import type { PageContext } from './layout.js';
import { SESSION_COOKIE, type ConsoleSessions } from './session.js';

/** The scopes that open a console page; a key with none of them is refused at sign-in and sees nothing. */
export const CONSOLE_SCOPES: readonly ApiScope[] = ['admin', 'search', 'lookup'];

declare module 'fastify' {
  interface FastifyRequest {
    /** The console session cookie the request was admitted by (none when its key came in a header). */
    consoleSession: string | null;
  }
}

/**
 * Who is asking a console page: a key in a header (`Authorization: Bearer`, `X-Api-Key`, as the
 * API takes it) or a session cookie; then the same rate limit and scope check as the API. A
 * request without either is a 401 (a browser gets the sign-in form).
 */
export class ConsoleGuard {
  constructor(
    private readonly auth: Authenticator,
    private readonly sessions: ConsoleSessions,
  ) {}

  /** The principal of a request, by header key or session cookie; null when neither admits it. */
  principalOf(req: FastifyRequest): { principal: Principal | null; session: string | null; presented: boolean } {
    if (req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined) {
      return { principal: this.auth.identify(req) ?? null, session: null, presented: true };
    }
    const cookie = req.cookies?.[SESSION_COOKIE];
    if (cookie === undefined) return { principal: null, session: null, presented: false };
    const s = this.sessions.open(cookie, (id) => this.auth.digestOf(id));
    const principal = s ? this.auth.identifyById(s.keyId, req.ip) : null;
    return { principal, session: principal ? cookie : null, presented: true };
  }

  /** An onRequest hook admitting keys with `scope` (`any`: either console scope). */
  require(scope: ApiScope | 'any'): onRequestHookHandler {
    return (req: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
      const { principal, session } = this.principalOf(req);
      req.principal = principal;
      req.consoleSession = session;
      if (!principal)
        return done(
          new ApiError(401, 'STIXGATE_ERR_API_UNAUTHORIZED', UNAUTHORIZED_MESSAGE, {
            'www-authenticate': 'Bearer realm="stixgate"',
          }),
        );
      const wanted = scope === 'any' ? (CONSOLE_SCOPES.find((s) => principal.scopes.has(s)) ?? 'admin') : scope;
      done(this.auth.authorize(principal, wanted));
    };
  }

  /**
   * A preHandler for forms that change something: a request admitted by a session cookie must be
   * same-origin (Sec-Fetch-Site / Origin, where the browser sends them) and carry the session's
   * CSRF token. A key sent in a header cannot be forged by another site and needs neither.
   */
  csrf(): preHandlerHookHandler {
    return (req: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
      if (req.consoleSession === null) return done();
      const body: unknown = req.body;
      const token = isRecord(body) ? body.csrf : undefined;
      if (!sameOrigin(req) || !this.sessions.checkCsrf('session', req.consoleSession, token))
        return done(forbiddenForm());
      done();
    };
  }

  /** What a page shows of its reader. */
  context(req: FastifyRequest): PageContext {
    return {
      principal: principalOf(req),
      ...(req.consoleSession !== null ? { csrf: this.sessions.csrf('session', req.consoleSession) } : {}),
      path: req.routeOptions.url ?? '/console',
    };
  }
}

export const forbiddenForm = () =>
  new ApiError(
    403,
    'STIXGATE_ERR_API_FORBIDDEN',
    'the form is stale or came from another site; reload the page and try again',
  );

/** False when the browser says the request came from another site (headers absent: not a browser, or an old one; the CSRF token still decides). */
export function sameOrigin(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.host;
  } catch {
    return false;
  }
}
