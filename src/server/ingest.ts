import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parse as parseYaml } from 'yaml';
import { isStixgateError, errorMessage } from '../core/errors.js';
import type { Authenticator } from './auth.js';
import { ApiError } from './errors.js';
import type { AdminControl } from './admin-types.js';
import { ingestReportSchema } from './admin-schemas.js';
import { refuseOtherMethods } from './methods.js';

export const DEFAULT_INGEST_BODY_BYTES = 16 * 1024 * 1024;
const SOURCE_ID = '^[a-z][a-z0-9_]{0,63}$';

export interface IngestRoutesOptions {
  control: AdminControl;
  auth: Authenticator;
  /** Largest document accepted (413 above). */
  bodyLimit: number;
}

interface IngestQuery {
  type: string;
  source_id?: string;
  option?: string | string[];
}

const bad = (message: string) => new ApiError(400, 'STIXGATE_ERR_API_BAD_REQUEST', message);

/** `key=value` pairs as the CLI's `-o` takes them: the value read as YAML (a number, a list, a string). */
export function parseOptionPairs(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new Error(`an option is key=value, got "${p.slice(0, 100)}"`);
    const key = p.slice(0, eq);
    if (key === '__proto__' || key === 'constructor' || key === 'prototype')
      throw new Error(`option "${key}" is not allowed`);
    out[key] = parseYaml(p.slice(eq + 1));
  }
  return out;
}

/**
 * `POST /api/v1/ingest?type=FORMAT[&source_id=ID][&option=key=value…]` with the document as the
 * body (any content type, up to `server.ingest_body_limit_bytes`): the document goes through the
 * same mapping, value gate, filters and store as a source run of that type, and the answer lists
 * each object's status with its reason. Needs the `ingest` scope.
 */
export function ingestRoutes(app: FastifyInstance, o: IngestRoutesOptions): void {
  const onRequest = o.auth.require('ingest');
  // an own context: this route reads its body as raw bytes whatever the content type; every other route stays JSON only
  void app.register(async (sub) => {
    sub.removeAllContentTypeParsers();
    sub.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: o.bodyLimit }, (_req, body, done) =>
      done(null, body),
    );
    sub.post<{ Querystring: IngestQuery; Body: Buffer }>(
      '/api/v1/ingest',
      {
        onRequest,
        bodyLimit: o.bodyLimit,
        schema: {
          querystring: {
            type: 'object',
            required: ['type'],
            additionalProperties: false,
            properties: {
              type: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$' },
              source_id: { type: 'string', pattern: SOURCE_ID },
              option: {
                anyOf: [
                  { type: 'string', maxLength: 4096 },
                  { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 4096 } },
                ],
              },
            },
          },
          body: { description: 'the document, in the format `type` reads (text, CSV, JSON, XML; gzip is unpacked)' },
          response: { 200: ingestReportSchema },
        },
      },
      async (req: FastifyRequest<{ Querystring: IngestQuery; Body: Buffer }>) => {
        const q = req.query;
        const types = o.control.ingestTypes();
        if (!types.includes(q.type))
          throw bad(`type "${q.type}" cannot be ingested as a document; one of: ${types.join(', ')}`);
        if (!Buffer.isBuffer(req.body) || req.body.length === 0)
          throw bad('the body is empty; send the document as the request body');
        let options: Record<string, unknown>;
        try {
          options = parseOptionPairs(q.option === undefined ? [] : Array.isArray(q.option) ? q.option : [q.option]);
        } catch (e) {
          throw bad(errorMessage(e));
        }
        try {
          return await o.control.ingest(req.body, { type: q.type, sourceId: q.source_id ?? `api_${q.type}`, options });
        } catch (e) {
          if (e instanceof ApiError) throw e;
          // the document or its options are at fault: a clear 400 naming the reason, never a 500
          if (
            isStixgateError(e) &&
            (e.code.startsWith('STIXGATE_ERR_INPUT_') || e.code.startsWith('STIXGATE_ERR_CONFIG_'))
          )
            throw bad(e.message.slice(0, 1000));
          throw e;
        }
      },
    );
    // this context loads after the root's 405 routes are made: it adds its own
    refuseOtherMethods(sub, '/api/v1/ingest', new Set(['POST']), [onRequest]);
  });
}
