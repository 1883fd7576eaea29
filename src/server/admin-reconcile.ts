import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isStixgateError } from '../core/errors.js';
import { tlpRank, type TlpLevel } from '../core/stix.js';
import type { ReconcileResult } from '../delivery/reconcile.js';
import { principalOf, type Authenticator } from './auth.js';
import { ApiError } from './errors.js';
import type { AdminControl, ReconcileAnswer } from './admin-types.js';
import { idParams } from './admin-schemas.js';
import { guarded, notFound } from './admin.js';

const int = { type: 'integer' } as const;
const str = { type: 'string' } as const;
const item = {
  type: 'object',
  required: ['key', 'label', 'tlp'],
  properties: { key: str, label: str, tlp: str },
} as const;
const items = { type: 'array', items: item } as const;
const kinds = { missing: int, stale: int, extra: int, foreign: int } as const;

export const reconcileAnswerSchema = {
  type: 'object',
  required: ['id', 'ran'],
  properties: {
    id: str,
    ran: { type: 'boolean' },
    result: {
      type: 'object',
      required: ['sink', 'type', 'remote', 'applied', 'read', 'expected', 'counts', 'items', 'truncated', 'remaining'],
      properties: {
        sink: str,
        type: str,
        remote: str,
        applied: { type: 'boolean' },
        read: int,
        expected: int,
        counts: {
          type: 'object',
          required: ['missing', 'stale', 'extra', 'foreign', 'in_sync'],
          properties: { ...kinds, in_sync: int },
        },
        items: {
          type: 'object',
          required: ['missing', 'stale', 'extra', 'foreign'],
          properties: { missing: items, stale: items, extra: items, foreign: items },
        },
        truncated: { type: 'boolean' },
        repaired: {
          type: 'object',
          properties: { upserted: int, removed: int, rejected: int, retried: int, gone: int },
        },
        remaining: { type: 'object', required: ['missing', 'stale', 'extra', 'foreign'], properties: kinds },
      },
    },
  },
} as const;

const limitQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: {
      type: 'integer',
      minimum: 0,
      maximum: 10_000,
      default: 100,
      description: 'entries listed per kind (counts cover all)',
    },
  },
} as const;

/**
 * `GET /api/v1/admin/sinks/:id/plan` (changes nothing) and `POST /api/v1/admin/sinks/:id/reconcile`
 * (repairs, in the sink job's slot): docs/reconcile.md. Counts are the sink's; the listed entries
 * are cut to the caller's TLP ceiling (an expected entry carries the TLP of the sink's view of its
 * indicator, an entry read back the sink's ceiling).
 */
export function reconcileRoutes(app: FastifyInstance, o: { control: AdminControl; auth: Authenticator }): void {
  const onRequest = o.auth.require('admin');
  const P = '/api/v1/admin/sinks/:id';
  const run = async (
    req: FastifyRequest<{ Params: { id: string }; Querystring: { limit: number } }>,
    apply: boolean,
  ): Promise<ReconcileAnswer> => {
    const r = await guarded(async () => {
      try {
        return await o.control.reconcile(req.params.id, { apply, limit: req.query.limit });
      } catch (e) {
        if (isStixgateError(e) && e.code === 'STIXGATE_ERR_SINK_UNREADABLE')
          throw new ApiError(400, 'STIXGATE_ERR_API_BAD_REQUEST', e.message);
        throw e;
      }
    });
    if (!r) throw notFound('sink');
    return r.result ? { ...r, result: withinCeiling(r.result, principalOf(req).maxTlp) } : r;
  };
  const schema = { params: idParams, querystring: limitQuery, response: { 200: reconcileAnswerSchema } };
  app.get<{ Params: { id: string }; Querystring: { limit: number } }>(`${P}/plan`, { onRequest, schema }, (req) =>
    run(req, false),
  );
  app.post<{ Params: { id: string }; Querystring: { limit: number } }>(`${P}/reconcile`, { onRequest, schema }, (req) =>
    run(req, true),
  );
}

/** A reconcile result with its listed entries cut to a reader's TLP ceiling (counts stay the sink's). */
export function withinCeiling(r: ReconcileResult, ceiling: TlpLevel): ReconcileResult {
  const max = tlpRank(ceiling);
  const cut = (list: ReconcileResult['items']['missing']) => list.filter((i) => tlpRank(i.tlp) <= max);
  return {
    ...r,
    items: {
      missing: cut(r.items.missing),
      stale: cut(r.items.stale),
      extra: cut(r.items.extra),
      foreign: cut(r.items.foreign),
    },
  };
}
