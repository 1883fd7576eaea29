import type { FastifyInstance } from 'fastify';
import { html } from 'ghtml';
import { isStixgateError } from '../../core/errors.js';
import { withinCeiling } from '../admin-reconcile.js';
import { ApiError } from '../errors.js';
import type { ConsoleKit } from './kit.js';
import { PLAN_LIMIT, planBody } from './plan-page.js';

const ID = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', maxLength: 128 } },
} as const;
const FORM = { type: 'object', properties: { csrf: { type: 'string', maxLength: 100 } } } as const;

/**
 * The Plan and Reconcile buttons of a sink (docs/console.md): `POST /console/sinks/:id/plan` and
 * `POST /console/sinks/:id/reconcile`, `admin` scope, CSRF-checked like the console's other
 * forms. Each calls the admin control `GET …/plan` and `POST …/reconcile` call (a reconcile runs
 * in the sink job's slot, under its lease) and answers with the page of the result: the plan, or
 * what the reconcile repaired. Works without JavaScript (plain forms, a page as the answer).
 */
export function reconcileRoutes(app: FastifyInstance, kit: ConsoleKit): void {
  const admin = kit.guard.require('admin');
  const csrf = kit.guard.csrf();
  for (const apply of [false, true]) {
    const action = apply ? 'reconcile' : 'plan';
    const url = `/console/sinks/:id/${action}`;
    app.post<{ Params: { id: string } }>(
      url,
      { onRequest: admin, preHandler: csrf, schema: { hide: true, params: ID, body: FORM } },
      async (req, reply) => {
        const c = kit.admin;
        const id = req.params.id;
        if (!c) throw new ApiError(404, 'STIXGATE_ERR_API_NOT_FOUND', 'no sink with this id');
        const title = `${apply ? 'Reconcile' : 'Plan'} of ${id}`;
        let answer: Awaited<ReturnType<typeof c.reconcile>>;
        try {
          answer = await c.reconcile(id, { apply, limit: PLAN_LIMIT });
        } catch (e) {
          if (isStixgateError(e) && e.code === 'STIXGATE_ERR_SINK_UNREADABLE')
            throw new ApiError(400, 'STIXGATE_ERR_API_BAD_REQUEST', e.message);
          if (isStixgateError(e) && e.code === 'STIXGATE_ERR_JOB_RUNNING') {
            const busy = html`<div class="notice" role="status" id="reconcile-busy">${id}: a push is running; nothing was reconciled. Try again when it ends.</div><p><a href="/console/sinks">← Sinks</a></p>`;
            return kit.render(req, reply, title, busy, 409);
          }
          throw e;
        }
        if (!answer) throw new ApiError(404, 'STIXGATE_ERR_API_NOT_FOUND', 'no sink with this id');
        const result = answer.result && withinCeiling(answer.result, req.principal!.maxTlp);
        return kit.render(req, reply, title, planBody(id, result, kit.guard.context(req).csrf));
      },
    );
  }
  kit.route({ url: '/console/sinks/:id/reconcile', methods: ['POST'], onRequest: [admin] });
}
