import type { FastifyInstance } from 'fastify';
import type { DeliveriesAnswer } from '../../delivery/why.js';
import type { TlpLevel } from '../../core/stix.js';
import { deliveriesFor } from '../deliveries.js';
import { ApiError } from '../errors.js';
import type { ConsoleKit } from './kit.js';
import { whyBody } from './why-pages.js';
import { principalOf } from '../auth.js';

/**
 * The ledger's answer for a value as the key sees it (`GET /api/v1/deliveries`' own function);
 * undefined with the reason when the store keeps no ledger (OpenSearch).
 */
export async function ledgerAnswer(
  kit: ConsoleKit,
  value: string,
  maxTlp: TlpLevel,
): Promise<{ answer?: DeliveriesAnswer; missing?: string }> {
  try {
    return {
      answer: await deliveriesFor(
        { store: kit.store, auth: kit.auth, access: kit.access, sinks: kit.sinks },
        value,
        maxTlp,
      ),
    };
  } catch (e) {
    if (e instanceof ApiError && e.statusCode === 501) return { missing: e.message };
    throw e;
  }
}

/**
 * `/console/why?value=…` (the `lookup` scope, as `GET /api/v1/deliveries`): for every sink, the
 * value's state there, since when, and why (docs/console.md).
 */
export function whyRoutes(app: FastifyInstance, kit: ConsoleKit): void {
  const lookup = kit.guard.require('lookup');
  app.get<{ Querystring: { value?: string } }>(
    '/console/why',
    {
      onRequest: lookup,
      schema: {
        hide: true,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { value: { type: 'string', maxLength: 2048 } },
        },
      },
    },
    async (req, reply) => {
      const value = (req.query.value ?? '').trim();
      if (value === '') return kit.render(req, reply, 'Why', whyBody('', undefined));
      const { answer, missing } = await ledgerAnswer(kit, value, principalOf(req).maxTlp);
      return kit.render(req, reply, 'Why', whyBody(value, answer, missing), answer?.invalid !== undefined ? 400 : 200);
    },
  );
  kit.route({ url: '/console/why', methods: ['GET'], onRequest: [lookup] });
}
