import type { FastifyInstance } from 'fastify';
import type { CorrelationIndex } from '../correlate/index.js';
import { DEFAULT_POLICY, canSee, type AccessPolicy } from '../access/policy.js';
import type { Store } from '../store/contract.js';
import type { Authenticator } from './auth.js';
import { ApiError } from './errors.js';
import { OBJECT_ID_PARAMS } from './objects.js';

export interface RelatedRoutesOptions {
  correlator: CorrelationIndex;
  store: Store;
  auth: Authenticator;
  now: () => number;
  /** The access policy (default_tlp) visibility is judged under. */
  access?: AccessPolicy;
}

export const MAX_RELATED_LIMIT = 1000;

const str = { type: 'string' } as const;

/** What an answer may carry (an allowlist: the response serializer writes exactly these fields). */
export const relatedResponseSchema = {
  type: 'object',
  required: ['id', 'related', 'capped'],
  properties: {
    id: str,
    capped: { type: 'boolean' },
    related: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'type', 'path'],
        properties: {
          id: str,
          type: str,
          name: str,
          path: {
            type: 'array',
            items: {
              type: 'object',
              required: ['from', 'kind', 'to'],
              properties: { from: str, kind: str, to: str, derived: { type: 'boolean' }, via: str },
            },
          },
        },
      },
    },
  },
} as const;

interface Query {
  depth: 1 | 2;
  limit: number;
  types?: string;
}

/**
 * `GET /api/v1/objects/:id/related?depth=1|2&limit=&types=a,b`: the objects linked to one object
 * (malware, actors, campaigns, reports, other indicators…) with the path that links them. Same
 * key scope (`lookup`) and TLP ceiling as lookups; an object above the caller's TLP is a 404, as
 * an unknown one is, so its existence does not leak.
 */
export function relatedRoutes(app: FastifyInstance, o: RelatedRoutesOptions): void {
  app.get<{ Params: { id: string }; Querystring: Query }>(
    '/api/v1/objects/:id/related',
    {
      onRequest: o.auth.require('lookup'),
      schema: {
        params: OBJECT_ID_PARAMS,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            depth: { type: 'integer', enum: [1, 2], default: 1 },
            limit: { type: 'integer', minimum: 1, maximum: MAX_RELATED_LIMIT, default: 100 },
            types: { type: 'string', maxLength: 1024, pattern: '^[a-z0-9-]+(,[a-z0-9-]+)*$' },
          },
        },
        response: { 200: relatedResponseSchema },
      },
    },
    async (req) => {
      const { id } = req.params;
      const maxTlp = req.principal?.maxTlp ?? 'clear';
      const subject = await o.store.get(id);
      if (!subject || !canSee(subject, maxTlp, o.access ?? DEFAULT_POLICY))
        throw new ApiError(404, 'STIXGATE_ERR_API_NOT_FOUND', 'no such object');
      const types = req.query.types?.split(',');
      const r = await o.correlator.related(o.store, id, {
        depth: req.query.depth,
        limit: req.query.limit,
        types,
        maxTlp,
        now: o.now(),
      });
      return {
        id,
        capped: r?.capped ?? false,
        related: (r?.related ?? []).map((x) => ({
          id: x.object.id,
          type: x.object.type,
          ...(typeof x.object.name === 'string' ? { name: x.object.name } : {}),
          path: x.path,
        })),
      };
    },
  );
}
