import type { FastifyInstance, onRequestHookHandler, RouteOptions } from 'fastify';
import { ApiError } from './errors.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

interface PathRoutes {
  methods: Set<string>;
  onRequest: onRequestHookHandler[];
}

/**
 * 405 for a known path called with a method it does not answer, after the same
 * authentication and authorization as the path's own routes: a verb swap is a 401 without a
 * valid key, a 403 without the scope, and only then a 405 with `Allow`. The body is never read.
 * Call before registering routes; call the returned function after the last route.
 */
export function methodNotAllowed(app: FastifyInstance): () => void {
  const paths = new Map<string, PathRoutes>();
  let done = false;
  app.addHook('onRoute', (r: RouteOptions) => {
    if (done || r.url === '*') return;
    const methods: string[] = [r.method].flat();
    let p = paths.get(r.url);
    if (!p) {
      p = {
        methods: new Set(),
        onRequest: [r.onRequest ?? []].flat(),
      };
      paths.set(r.url, p);
    }
    for (const m of methods) p.methods.add(m);
    if (methods.includes('GET')) p.methods.add('HEAD');
  });
  return () => {
    done = true;
    for (const [url, p] of paths) refuseOtherMethods(app, url, p.methods, p.onRequest);
  };
}

/**
 * The 405 route of one path (for a path registered in its own plugin context, after
 * `methodNotAllowed` has finished): the path's own onRequest hooks run first.
 */
export function refuseOtherMethods(
  app: FastifyInstance,
  url: string,
  methods: ReadonlySet<string>,
  onRequest: onRequestHookHandler[],
): void {
  const others = METHODS.filter((m) => !methods.has(m));
  if (others.length === 0) return;
  const allow = METHODS.filter((m) => methods.has(m)).join(', ');
  const refuse: onRequestHookHandler = (_req, _reply, next) =>
    next(new ApiError(405, 'STIXGATE_ERR_API_METHOD_NOT_ALLOWED', `this route answers ${allow}`, { allow }));
  // hidden from the API description (src/server/openapi.ts): a refusal, not an operation
  app.route({
    method: others,
    url,
    schema: { hide: true },
    onRequest: [...onRequest, refuse],
    handler: async () => undefined,
  });
}
