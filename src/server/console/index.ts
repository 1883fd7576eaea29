import cookie from '@fastify/cookie';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from 'ghtml';
import { DEFAULT_POLICY } from '../../access/policy.js';
import { type ApiError, describeError, sendError } from '../errors.js';
import { refuseOtherMethods } from '../methods.js';
import { ConsoleGuard } from './guard.js';
import { navFor, page } from './layout.js';
import { loginPage } from './login-page.js';
import { loginRoutes } from './login-routes.js';
import { opsRoutes } from './ops-routes.js';
import { searchRoutes } from './search-routes.js';
import { whyRoutes } from './why-routes.js';
import { ConsoleSessions, LOGIN_COOKIE, loginCookieOptions } from './session.js';
import type { ConsoleKit, ConsoleRoute, ConsoleRoutesOptions } from './kit.js';

export type { ConsoleRoutesOptions } from './kit.js';
import { STYLESHEET, STYLE_PATH } from './style.js';
import { principalOf } from '../auth.js';

/**
 * Headers of every console answer: no script may run at all (`default-src 'none'`, no
 * `script-src`), styles only from the served stylesheet, forms only to this origin, no framing,
 * no referrer to other sites (URLs carry looked-up values; same-origin forms keep their Origin header, which the CSRF check reads), and pages never cached.
 */
export const CONSOLE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * The operators' console (docs/console.md): server-rendered pages under /console, signed in with
 * an API key (a session cookie after the sign-in form) or a key in a header; every page shows the
 * key's view under the access policy, from the same internals as the API routes.
 */
export function consoleRoutes(app: FastifyInstance, o: ConsoleRoutesOptions): void {
  void app.register(async (sub) => {
    await sub.register(cookie);
    sub.decorateRequest('consoleSession', null);
    sub.removeAllContentTypeParsers();
    // forms only (a few short fields); anything else is a 415
    sub.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 16 * 1024 },
      (_req, body, done) => {
        const out: Record<string, string> = Object.create(null) as Record<string, string>;
        for (const [k, v] of new URLSearchParams(String(body))) if (!(k in out)) out[k] = v;
        done(null, out);
      },
    );
    sub.addHook('onSend', async (req, reply) => {
      reply.header('content-security-policy', CONSOLE_CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('x-frame-options', 'DENY');
      reply.header('referrer-policy', 'same-origin');
      reply.header('cross-origin-opener-policy', 'same-origin');
      reply.header('cross-origin-resource-policy', 'same-origin');
      if (req.routeOptions.url !== STYLE_PATH) reply.header('cache-control', 'no-store');
    });
    const sessions = new ConsoleSessions(o.config.session_secret, o.config.session_ttl_secs, o.now);
    const guard = new ConsoleGuard(o.auth, sessions);
    const routes: ConsoleRoute[] = [];
    const kit: ConsoleKit = {
      ...o,
      guard,
      sessions,
      policy: o.access ?? DEFAULT_POLICY,
      render: (req, reply, title, body, status = 200) =>
        reply
          .code(status)
          .type('text/html; charset=utf-8')
          .send(page(title, body, guard.context(req))),
      route: (r) => routes.push(r),
    };
    sub.setErrorHandler((err: FastifyError | ApiError | Error, req, reply) => consoleError(kit, err, req, reply));

    sub.get(STYLE_PATH, { schema: { hide: true } }, async (_req, reply) =>
      reply
        .type('text/css; charset=utf-8')
        .header('cache-control', 'public, max-age=31536000, immutable')
        .send(STYLESHEET),
    );
    kit.route({ url: STYLE_PATH, methods: ['GET'], onRequest: [] });
    const home = guard.require('any');
    sub.get('/console', { onRequest: home, schema: { hide: true } }, async (req, reply) =>
      reply.redirect(navFor(principalOf(req))[0]?.path ?? '/console/login', 303),
    );
    kit.route({ url: '/console', methods: ['GET'], onRequest: [home] });
    loginRoutes(sub, kit);
    opsRoutes(sub, kit);
    searchRoutes(sub, kit);
    whyRoutes(sub, kit);
    // this context loads after the root's 405 routes are made: it adds its own
    for (const r of routes)
      refuseOtherMethods(
        sub,
        r.url,
        new Set(r.methods.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m]))),
        r.onRequest,
      );
  });
}

/** True when the caller is a browser asking for a page (its Accept names HTML); API clients get the JSON error body. */
function wantsHtml(req: FastifyRequest): boolean {
  return /\btext\/html\b/.test(req.headers.accept ?? '');
}

/**
 * Errors of console routes: a browser gets a page (the sign-in form for a 401, the reason for
 * anything else, never a stack); other clients get the API's JSON error body.
 */
function consoleError(
  kit: ConsoleKit,
  err: FastifyError | ApiError | Error,
  req: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const d = describeError(err, req.routeOptions.bodyLimit ?? 0);
  if (d.internal) req.log.error({ err }, 'console request failed');
  if (!wantsHtml(req)) return sendError(reply, d.status, d.code, d.message, d.headers);
  reply
    .code(d.status)
    .headers(d.headers ?? {})
    .type('text/html; charset=utf-8');
  if (d.status === 401) {
    const nonce = kit.sessions.loginNonce();
    reply.setCookie(LOGIN_COOKIE, nonce, loginCookieOptions(req));
    const next = req.method === 'GET' ? req.url : '/console';
    return reply.send(
      loginPage({
        csrf: kit.sessions.csrf('login', nonce),
        next,
        message:
          req.principal === null && hasCredentials(req)
            ? 'This key or sign-in is not valid (unknown, expired, or not allowed from this address). Sign in again.'
            : undefined,
      }),
    );
  }
  const body = html`<div class="error-box" role="alert">${d.message}</div><p><a href="/console">Back to the console</a></p>`;
  return reply.send(
    req.principal ? page(`Error ${d.status}`, body, kit.guard.context(req)) : page(`Error ${d.status}`, body),
  );
}

function hasCredentials(req: FastifyRequest): boolean {
  return (
    req.headers.authorization !== undefined ||
    req.headers['x-api-key'] !== undefined ||
    req.headers.cookie?.includes('stixgate_console=') === true
  );
}
