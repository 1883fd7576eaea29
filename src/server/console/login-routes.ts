import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import { CONSOLE_SCOPES, sameOrigin } from './guard.js';
import type { ConsoleKit } from './kit.js';
import { loginPage, safeNext } from './login-page.js';
import { LOGIN_COOKIE, SESSION_COOKIE, cookieOptions, loginCookieOptions } from './session.js';

interface LoginBody {
  key?: string;
  csrf?: string;
  next?: string;
}

const formBody = {
  type: 'object',
  properties: {
    key: { type: 'string', maxLength: 512 },
    csrf: { type: 'string', maxLength: 100 },
    next: { type: 'string', maxLength: 2048 },
  },
} as const;

/**
 * `GET /console/login` (the form), `POST /console/login` (a key for a session cookie) and
 * `POST /console/logout`. The sign-in is refused, with the form again, for a stale or cross-site
 * form, an invalid key, and a key with none of the console's scopes (it would see nothing).
 */
export function loginRoutes(app: FastifyInstance, kit: ConsoleKit): void {
  const form = (req: FastifyRequest, reply: FastifyReply, status: number, next: string, message?: string) => {
    const nonce = kit.sessions.loginNonce();
    return reply
      .code(status)
      .setCookie(LOGIN_COOKIE, nonce, loginCookieOptions(req))
      .type('text/html; charset=utf-8')
      .send(loginPage({ csrf: kit.sessions.csrf('login', nonce), next, ...(message ? { message } : {}) }));
  };

  app.get<{ Querystring: { next?: string } }>(
    '/console/login',
    {
      schema: {
        hide: true,
        querystring: { type: 'object', properties: { next: { type: 'string', maxLength: 2048 } } },
      },
    },
    async (req, reply) => form(req, reply, 200, safeNext(req.query.next)),
  );
  app.post<{ Body: LoginBody }>('/console/login', { schema: { hide: true, body: formBody } }, async (req, reply) => {
    const b = req.body ?? {};
    const next = safeNext(b.next);
    const nonce = req.cookies[LOGIN_COOKIE];
    if (!sameOrigin(req) || !kit.sessions.loginNonceValid(nonce) || !kit.sessions.checkCsrf('login', nonce, b.csrf)) {
      return form(req, reply, 403, next, 'The sign-in form expired or came from another site. Enter the key again.');
    }
    const p = typeof b.key === 'string' ? kit.auth.identifyKey(b.key.trim(), req.ip) : null;
    if (!p)
      return form(
        req,
        reply,
        401,
        next,
        'This key is not valid here (unknown, expired, or not allowed from this address).',
      );
    req.principal = p; // the audit line names the key id
    const scope = CONSOLE_SCOPES.find((s) => p.scopes.has(s));
    if (scope === undefined)
      return form(
        req,
        reply,
        403,
        next,
        'This key has none of the admin, search and lookup scopes: the console has nothing to show it.',
      );
    const limited = kit.auth.authorize(p, scope);
    if (limited) throw limited;
    // identifyKey answers configured keys only: each has an id and a digest
    const digest = p.keyId === null ? undefined : kit.auth.digestOf(p.keyId);
    if (p.keyId === null || digest === undefined)
      throw new ApiError(500, 'STIXGATE_ERR_API_INTERNAL', 'an identified key has no id or digest');
    const session = kit.sessions.seal(p.keyId, digest);
    return reply
      .clearCookie(LOGIN_COOKIE, { path: loginCookieOptions(req).path })
      .setCookie(SESSION_COOKIE, session, cookieOptions(req, kit.sessions.ttlSecs))
      .redirect(next, 303);
  });
  kit.route({ url: '/console/login', methods: ['GET', 'POST'], onRequest: [] });

  const any = kit.guard.require('any');
  app.post(
    '/console/logout',
    { onRequest: any, preHandler: kit.guard.csrf(), schema: { hide: true, body: formBody } },
    async (req, reply) =>
      reply.clearCookie(SESSION_COOKIE, { path: cookieOptions(req, 0).path }).redirect('/console/login', 303),
  );
  kit.route({ url: '/console/logout', methods: ['POST'], onRequest: [any] });
}
