import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { LookupIndex, LookupResult } from '../lookup/index.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Authenticator } from './auth.js';
import { ApiError } from './errors.js';

export const MAX_VALUE_LENGTH = 2048;

export interface LookupRoutesOptions {
  index: LookupIndex;
  metrics: Metrics;
  auth: Authenticator;
  maxBatchSize: number;
  now: () => number;
}

const valueSchema = { type: 'string', maxLength: MAX_VALUE_LENGTH } as const;

const str = { type: 'string' } as const;
const strOrNull = { type: ['string', 'null'] } as const;
/** Response schema: serialised by fast-json-stringify, and an allowlist of what a result may carry. */
export const lookupResultSchema = {
  type: 'object',
  required: ['value', 'matched', 'indicators'],
  properties: {
    value: str,
    type: str,
    matched: { type: 'boolean' },
    invalid: str,
    indicators: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'match', 'matched_value', 'score', 'tlp', 'labels', 'sources', 'first_seen', 'last_seen', 'valid_until'],
        properties: {
          id: str,
          match: str,
          matched_value: str,
          score: { type: ['integer', 'null'] },
          tlp: str,
          labels: { type: 'array', items: str },
          sources: { type: 'array', items: str },
          first_seen: strOrNull,
          last_seen: strOrNull,
          valid_until: strOrNull,
        },
      },
    },
  },
} as const;
const batchSchema = { type: 'object', required: ['results'], properties: { results: { type: 'array', items: lookupResultSchema } } } as const;

/** `GET /api/v1/lookup?value=…` (one value, or repeated `value`s) and `POST /api/v1/lookup` `{ values: [...] }`. */
export function lookupRoutes(app: FastifyInstance, o: LookupRoutesOptions): void {
  const { index, metrics, maxBatchSize, now } = o;
  const onRequest = o.auth.require('lookup');

  const run = (req: FastifyRequest, values: readonly string[], kind: 'single' | 'batch'): LookupResult[] => {
    if (values.length > maxBatchSize) {
      throw new ApiError(400, 'STIXGATE_ERR_API_BAD_REQUEST', `too many values: ${values.length}; at most ${maxBatchSize} per request (server.max_batch_size)`);
    }
    const started = process.hrtime.bigint();
    const maxTlp = req.principal?.maxTlp ?? 'clear';
    const t = now();
    const results = new Array<LookupResult>(values.length);
    let hit = 0;
    let miss = 0;
    let invalid = 0;
    for (let i = 0; i < values.length; i++) {
      const r = index.lookup(values[i], t, maxTlp);
      if (r.invalid !== undefined) invalid++;
      else if (r.matched) hit++;
      else miss++;
      results[i] = r;
    }
    if (hit) metrics.lookupValues.inc({ result: 'hit' }, hit);
    if (miss) metrics.lookupValues.inc({ result: 'miss' }, miss);
    if (invalid) metrics.lookupValues.inc({ result: 'invalid' }, invalid);
    metrics.lookupDuration.observe({ kind }, Number(process.hrtime.bigint() - started) / 1e9);
    return results;
  };

  app.get<{ Querystring: { value: string | string[] } }>(
    '/api/v1/lookup',
    {
      onRequest,
      schema: {
        querystring: {
          type: 'object',
          required: ['value'],
          additionalProperties: false,
          properties: { value: { anyOf: [valueSchema, { type: 'array', items: valueSchema, minItems: 1 }] } },
        },
        response: { 200: { anyOf: [lookupResultSchema, batchSchema] } },
      },
    },
    async (req) => {
      const v = req.query.value;
      if (typeof v === 'string') return run(req, [v], 'single')[0];
      return { results: run(req, v, 'batch') };
    },
  );

  app.post<{ Body: { values: string[] } }>(
    '/api/v1/lookup',
    {
      onRequest,
      schema: {
        body: {
          type: 'object',
          required: ['values'],
          additionalProperties: false,
          properties: { values: { type: 'array', items: valueSchema } },
        },
        response: { 200: batchSchema },
      },
    },
    async (req) => ({ results: run(req, req.body.values, 'batch') }),
  );
}
