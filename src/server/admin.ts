import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isStixgateError } from '../core/errors.js';
import { tlpRank } from '../core/stix.js';
import type { Store } from '../store/contract.js';
import { principalOf, type Authenticator } from './auth.js';
import { ApiError } from './errors.js';
import type { AdminControl, PushAnswer } from './admin-types.js';
import {
  idParams,
  pushAnswerSchema,
  runAnswerSchema,
  sinkStateSchema,
  sourceStateSchema,
  statsSchema,
} from './admin-schemas.js';

export interface AdminRoutesOptions {
  control: AdminControl;
  store: Store;
  auth: Authenticator;
}

export const notFound = (what: string) => new ApiError(404, 'STIXGATE_ERR_API_NOT_FOUND', `no ${what} with this id`);

/** A run already in progress is a 409; other failures keep their meaning (the error handler maps them). */
export async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isStixgateError(e) && e.code === 'STIXGATE_ERR_JOB_RUNNING')
      throw new ApiError(409, 'STIXGATE_ERR_API_CONFLICT', 'a run of this job is in progress; retry when it has ended');
    if (isStixgateError(e) && e.code !== 'STIXGATE_ERR_STORE_UNAVAILABLE')
      throw new ApiError(502, 'STIXGATE_ERR_API_RUN_FAILED', `the run failed: ${e.message}`.slice(0, 500));
    throw e;
  }
}

const waitQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { wait: { type: 'boolean', default: true } },
} as const;
const pushQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    wait: { type: 'boolean', default: true },
    full: { type: 'boolean', default: false },
    dry_run: { type: 'boolean', default: false },
  },
} as const;

/**
 * The admin API (`admin` scope, docs/admin-api.md): sources and sinks (state, run or push now,
 * pause, resume, a dry-run plan), reload and store statistics. Every route answers about
 * components and counts, never about objects, except the dry-run samples, which are cut to the
 * caller's TLP ceiling.
 */
export function adminRoutes(app: FastifyInstance, o: AdminRoutesOptions): void {
  const onRequest = o.auth.require('admin');
  const c = o.control;
  const P = '/api/v1/admin';

  app.get(
    `${P}/sources`,
    {
      onRequest,
      schema: {
        response: {
          200: {
            type: 'object',
            required: ['sources'],
            properties: { sources: { type: 'array', items: sourceStateSchema } },
          },
        },
      },
    },
    async () => ({ sources: await c.sources() }),
  );
  app.get<{ Params: { id: string } }>(
    `${P}/sources/:id`,
    { onRequest, schema: { params: idParams, response: { 200: sourceStateSchema } } },
    async (req) => {
      const s = (await c.sources()).find((x) => x.id === req.params.id);
      if (!s) throw notFound('source');
      return s;
    },
  );
  app.post<{ Params: { id: string }; Querystring: { wait: boolean } }>(
    `${P}/sources/:id/run`,
    {
      onRequest,
      schema: { params: idParams, querystring: waitQuery, response: { 200: runAnswerSchema, 202: runAnswerSchema } },
    },
    async (req, reply) => {
      const r = await guarded(() => c.runSource(req.params.id, req.query.wait));
      if (!r) throw notFound('source');
      return reply.code(r.started ? 202 : 200).send(r);
    },
  );
  for (const kind of ['source', 'sink'] as const) {
    for (const action of ['pause', 'resume'] as const) {
      app.post<{ Params: { id: string } }>(
        `${P}/${kind}s/:id/${action}`,
        {
          onRequest,
          schema: { params: idParams, response: { 200: kind === 'source' ? sourceStateSchema : sinkStateSchema } },
        },
        async (req) => {
          const s = await c.setPaused(kind, req.params.id, action === 'pause');
          if (!s) throw notFound(kind);
          return s;
        },
      );
    }
  }

  app.get(
    `${P}/sinks`,
    {
      onRequest,
      schema: {
        response: {
          200: {
            type: 'object',
            required: ['sinks'],
            properties: { sinks: { type: 'array', items: sinkStateSchema } },
          },
        },
      },
    },
    async () => ({ sinks: await c.sinks() }),
  );
  app.get<{ Params: { id: string } }>(
    `${P}/sinks/:id`,
    { onRequest, schema: { params: idParams, response: { 200: sinkStateSchema } } },
    async (req) => {
      const s = (await c.sinks()).find((x) => x.id === req.params.id);
      if (!s) throw notFound('sink');
      return s;
    },
  );
  app.post<{ Params: { id: string }; Querystring: { wait: boolean; full: boolean; dry_run: boolean } }>(
    `${P}/sinks/:id/push`,
    {
      onRequest,
      schema: { params: idParams, querystring: pushQuery, response: { 200: pushAnswerSchema, 202: pushAnswerSchema } },
    },
    async (
      req: FastifyRequest<{ Params: { id: string }; Querystring: { wait: boolean; full: boolean; dry_run: boolean } }>,
      reply,
    ) => {
      const q = req.query;
      const r = await guarded(() =>
        c.push(req.params.id, { full: q.full, dryRun: q.dry_run, wait: q.wait || q.dry_run }),
      );
      if (!r) throw notFound('sink');
      return reply.code(r.started ? 202 : 200).send(withinCeiling(r, req));
    },
  );

  app.post(
    `${P}/reload`,
    {
      onRequest,
      schema: {
        response: {
          200: {
            type: 'object',
            required: ['ok', 'message'],
            properties: { ok: { type: 'boolean' }, message: { type: 'string' } },
          },
        },
      },
    },
    async () => c.reload(),
  );

  app.get(`${P}/stats`, { onRequest, schema: { response: { 200: statsSchema } } }, async () => o.store.stats());
}

/**
 * A dry run's sample records are built from the sink's view; the caller sees only those whose
 * TLP (the strictest contribution in the record) is at or below its own ceiling, so a record
 * never shows the caller a contribution above it. Counts are aggregates and stay.
 */
function withinCeiling(r: PushAnswer, req: FastifyRequest): PushAnswer {
  if (!r.samples) return r;
  const max = tlpRank(principalOf(req).maxTlp);
  return { ...r, samples: r.samples.filter((s) => tlpRank(s.tlp) <= max) };
}
