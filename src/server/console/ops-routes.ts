import type { FastifyInstance } from 'fastify';
import { html } from 'ghtml';
import { isStixgateError } from '../../core/errors.js';
import { ApiError } from '../errors.js';
import { CSRF_FORM, ID_PARAMS, type ConsoleKit } from './kit.js';
import { sinksBody, sourcesBody } from './ops-pages.js';
import { reconcileRoutes } from './reconcile-routes.js';

const DONE = {
  type: 'object',
  properties: {
    done: { type: 'string', enum: ['run', 'push', 'pause', 'resume', 'busy', 'elsewhere'] },
    id: { type: 'string', maxLength: 128 },
  },
} as const;

/** The sentence a redirect after an action shows (fixed texts; only the component id, escaped, comes from the request). */
function noticeOf(q: { done?: string; id?: string }): string | undefined {
  if (q.done === undefined || q.id === undefined) return undefined;
  const what: Record<string, string> = {
    run: 'run started',
    push: 'push started',
    pause: 'paused',
    resume: 'resumed',
    busy: 'already running: the request was not queued',
    elsewhere: 'runs on another instance (its lease is held there)',
  };
  return `${q.id}: ${what[q.done]}`;
}

/**
 * `/console/sources` and `/console/sinks` (the `admin` scope): the admin API's state of every
 * component, with run/push now, pause and resume as forms (CSRF-checked) that call the same
 * admin control as `POST /api/v1/admin/...`; the plan and reconcile pages are in reconcile-routes.ts.
 */
export function opsRoutes(app: FastifyInstance, kit: ConsoleKit): void {
  const admin = kit.guard.require('admin');
  const csrf = kit.guard.csrf();
  const unavailable = html`<p class="notice">This process has no running daemon (no sources or sinks to show).</p>`;

  app.get<{ Querystring: { done?: string; id?: string } }>(
    '/console/sources',
    { onRequest: admin, schema: { hide: true, querystring: DONE } },
    async (req, reply) => {
      const body = kit.admin
        ? sourcesBody(await kit.admin.sources(), kit.guard.context(req), noticeOf(req.query))
        : unavailable;
      return kit.render(req, reply, 'Sources', body);
    },
  );
  kit.route({ url: '/console/sources', methods: ['GET'], onRequest: [admin] });

  app.get<{ Querystring: { done?: string; id?: string } }>(
    '/console/sinks',
    { onRequest: admin, schema: { hide: true, querystring: DONE } },
    async (req, reply) => {
      if (!kit.admin) return kit.render(req, reply, 'Sinks', unavailable);
      const rejected = await kit.metrics.sinkRejected.get();
      const dead = new Map(rejected.values.map((v) => [String(v.labels.sink), v.value]));
      const drift = new Map<string, Record<string, number>>();
      for (const v of (await kit.metrics.sinkDrift.get()).values) {
        const sink = String(v.labels.sink);
        drift.set(sink, { ...drift.get(sink), [String(v.labels.kind)]: v.value });
      }
      const reconciled = new Map(
        (await kit.metrics.sinkLastReconcile.get()).values.map((v) => [String(v.labels.sink), v.value]),
      );
      const extras = {
        deadLetters: (id: string) => dead.get(id),
        drift: (id: string) => drift.get(id),
        lastReconcile: (id: string) => reconciled.get(id),
      };
      return kit.render(
        req,
        reply,
        'Sinks',
        sinksBody(await kit.admin.sinks(), kit.guard.context(req), extras, noticeOf(req.query)),
      );
    },
  );
  kit.route({ url: '/console/sinks', methods: ['GET'], onRequest: [admin] });

  reconcileRoutes(app, kit);

  const actions = [
    ['sources', 'run'],
    ['sources', 'pause'],
    ['sources', 'resume'],
    ['sinks', 'push'],
    ['sinks', 'pause'],
    ['sinks', 'resume'],
  ] as const;
  for (const [kind, action] of actions) {
    const url = `/console/${kind}/:id/${action}`;
    app.post<{ Params: { id: string } }>(
      url,
      { onRequest: admin, preHandler: csrf, schema: { hide: true, params: ID_PARAMS, body: CSRF_FORM } },
      async (req, reply) => {
        const c = kit.admin;
        if (!c) throw new ApiError(404, 'STIXGATE_ERR_API_NOT_FOUND', `no ${kind.slice(0, -1)} with this id`);
        const id = req.params.id;
        let done: string = action;
        try {
          const found =
            action === 'run'
              ? await c.runSource(id, false)
              : action === 'push'
                ? await c.push(id, { full: false, dryRun: false, wait: false })
                : await c.setPaused(kind === 'sources' ? 'source' : 'sink', id, action === 'pause');
          if (!found) throw new ApiError(404, 'STIXGATE_ERR_API_NOT_FOUND', `no ${kind.slice(0, -1)} with this id`);
          if ('ran' in found && !found.ran) done = 'elsewhere';
        } catch (e) {
          if (!(isStixgateError(e) && e.code === 'STIXGATE_ERR_JOB_RUNNING')) throw e;
          done = 'busy';
        }
        return reply.redirect(`/console/${kind}?done=${done}&id=${encodeURIComponent(id)}`, 303);
      },
    );
    kit.route({ url, methods: ['POST'], onRequest: [admin] });
  }
}
