import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from 'ghtml';
import { isStixgateError } from '../../core/errors.js';
import { withinCeiling } from '../admin-reconcile.js';
import { ApiError } from '../errors.js';
import { CSRF_FORM, ID_PARAMS, type ConsoleKit } from './kit.js';
import { PLAN_LIMIT, planBody } from './plan-page.js';

type IdRequest = FastifyRequest<{ Params: { id: string } }>;

/**
 * A sink's reconcile in the console (docs/console.md), `admin` scope: the plan page
 * (`GET /console/sinks/:id/plan`, a link) and the Plan and Reconcile buttons
 * (`POST /console/sinks/:id/plan`, `POST /console/sinks/:id/reconcile`, CSRF-checked like the
 * console's other forms). Each calls what `GET …/plan` and `POST …/reconcile` of the admin API call
 * (an applied reconcile runs in the sink job's slot, under its lease) and answers with the page of
 * the result, its entries cut to the key's ceiling: the plan, or what the reconcile repaired.
 * Plain forms and pages: it works without JavaScript.
 */
export function reconcileRoutes(app: FastifyInstance, kit: ConsoleKit): void {
  const admin = kit.guard.require('admin');
  const csrf = kit.guard.csrf();

  async function answer(req: IdRequest, reply: FastifyReply, apply: boolean): Promise<FastifyReply> {
    const c = kit.admin;
    const id = req.params.id;
    const principal = req.principal;
    if (!c || !principal) throw new ApiError(404, 'STIXGATE_ERR_API_NOT_FOUND', 'no sink with this id');
    const title = `${apply ? 'Reconcile' : 'Plan'} of ${id}`;
    let r: Awaited<ReturnType<typeof c.reconcile>>;
    try {
      r = await c.reconcile(id, { apply, limit: PLAN_LIMIT });
    } catch (e) {
      if (isStixgateError(e) && e.code === 'STIXGATE_ERR_SINK_UNREADABLE')
        throw new ApiError(400, 'STIXGATE_ERR_API_BAD_REQUEST', e.message);
      if (isStixgateError(e) && e.code === 'STIXGATE_ERR_JOB_RUNNING') {
        const busy = html`<div class="notice" role="status" id="reconcile-busy">${id}: a push is running; nothing was reconciled. Try again when it ends.</div><p><a href="/console/sinks">← Sinks</a></p>`;
        return kit.render(req, reply, title, busy, 409);
      }
      throw e;
    }
    if (!r) throw new ApiError(404, 'STIXGATE_ERR_API_NOT_FOUND', 'no sink with this id');
    const result = r.result && withinCeiling(r.result, principal.maxTlp);
    return kit.render(req, reply, title, planBody(id, result, kit.guard.context(req).csrf));
  }

  // the plan of a reconcile (changes nothing): the admin API's own answer
  app.get<{ Params: { id: string } }>(
    '/console/sinks/:id/plan',
    { onRequest: admin, schema: { hide: true, params: ID_PARAMS } },
    (req, reply) => answer(req, reply, false),
  );
  for (const apply of [false, true])
    app.post<{ Params: { id: string } }>(
      `/console/sinks/:id/${apply ? 'reconcile' : 'plan'}`,
      { onRequest: admin, preHandler: csrf, schema: { hide: true, params: ID_PARAMS, body: CSRF_FORM } },
      (req, reply) => answer(req, reply, apply),
    );
  kit.route({ url: '/console/sinks/:id/plan', methods: ['GET', 'POST'], onRequest: [admin] });
  kit.route({ url: '/console/sinks/:id/reconcile', methods: ['POST'], onRequest: [admin] });
}
