import type { FastifyInstance } from 'fastify';
import type { AccessPolicy } from '../access/policy.js';
import type { Store } from '../store/contract.js';
import { deliveriesOf, type DeliveriesAnswer } from '../delivery/why.js';
import { sinkCursorName } from '../delivery/runner.js';
import type { Authenticator } from './auth.js';
import { ApiError } from './errors.js';
import { MAX_VALUE_LENGTH } from './lookup.js';

export interface DeliveriesRoutesOptions {
  store: Store;
  auth: Authenticator;
  /** The configured sinks' ids. */
  sinks: () => readonly string[];
  access?: AccessPolicy;
}

const str = { type: 'string' } as const;
const strOrNull = { type: ['string', 'null'] } as const;
const intOrNull = { type: ['integer', 'null'] } as const;
const sourcesSchema = {
  type: 'array',
  items: { type: 'object', required: ['source', 'tlp'], properties: { source: str, tlp: str } },
} as const;
const stateProps = {
  state: { type: 'string', enum: ['present', 'removed', 'withheld', 'rejected', 'pending', 'unknown'] },
  reason: strOrNull,
  since: strOrNull,
  seq: intOrNull,
  sources: sourcesSchema,
  score: intOrNull,
  threshold: intOrNull,
  detail: strOrNull,
} as const;

/** One value's deliveries (src/delivery/why.ts `DeliveriesAnswer`), also the `deliveries` of a lookup result. */
export const deliveryEntriesSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['sink', 'type', 'state', 'reason', 'since', 'seq', 'sources', 'score', 'threshold', 'detail'],
    properties: { sink: str, type: str, ...stateProps, previous: { type: 'object', properties: stateProps } },
  },
} as const;

export const deliveriesAnswerSchema = {
  type: 'object',
  required: ['value', 'deliveries'],
  properties: { value: str, type: str, invalid: str, deliveries: deliveryEntriesSchema },
} as const;

/** The ledger's answer for one value as a key with `maxTlp` sees it; 501 when the store keeps no ledger. */
export function deliveriesFor(
  o: DeliveriesRoutesOptions,
  value: string,
  maxTlp: Parameters<typeof deliveriesOf>[2],
): Promise<DeliveriesAnswer> {
  if (!o.store.deliveries)
    throw new ApiError(
      501,
      'STIXGATE_ERR_API_NOT_FOUND',
      `the ${o.store.kind} store keeps no delivery ledger (docs/deliveries.md)`,
    );
  return deliveriesOf(o.store, value, maxTlp, {
    sinks: o.sinks(),
    access: o.access,
    cursor: async (sink) => Number((await o.store.getCursor(sinkCursorName(sink))) ?? 0),
  });
}

/**
 * `GET /api/v1/deliveries?value=…` (scope `lookup`): for every sink, the value's state there
 * (present, removed, withheld, rejected, pending), since when, the change that put it there and
 * why, as the caller's TLP ceiling may see it (docs/deliveries.md).
 */
export function deliveriesRoutes(app: FastifyInstance, o: DeliveriesRoutesOptions): void {
  app.get<{ Querystring: { value: string } }>(
    '/api/v1/deliveries',
    {
      onRequest: o.auth.require('lookup'),
      schema: {
        description: "The delivery ledger: every sink's state for one value, since when and why (docs/deliveries.md)",
        querystring: {
          type: 'object',
          required: ['value'],
          additionalProperties: false,
          properties: { value: { type: 'string', minLength: 1, maxLength: MAX_VALUE_LENGTH } },
        },
        response: { 200: deliveriesAnswerSchema },
      },
    },
    async (req) => deliveriesFor(o, req.query.value, req.principal?.maxTlp ?? 'clear'),
  );
}
