import type { FastifyInstance, RouteOptions } from 'fastify';
import { isRecord, isStringArray } from '../core/guards.js';
import { ERROR_SCHEMA } from './errors.js';

/**
 * The OpenAPI 3.1 description of the HTTP API, generated from the routes as fastify registers them
 * (docs/api.md, docs/adr/0014-openapi-from-onroute.md). An `onRoute` hook sees every route of
 * every plugin, so a new route is described without an edit here: its path and method, its path
 * and query parameters, its JSON body and its response schemas (OpenAPI 3.1 schemas are JSON
 * Schema, so route schemas are used as they are), and the scope its key needs when its
 * `onRequest` is an `Authenticator.require` hook.
 */

declare module 'fastify' {
  interface FastifySchema {
    /** One line naming the operation, in the API description. */
    summary?: string;
    description?: string;
    /** Left out of the API description. */
    hide?: boolean;
  }
}

export const OPENAPI_PATH = '/api/openapi.json';

interface Described {
  method: string;
  url: string;
  schema: Record<string, unknown>;
  scope?: string;
  /** The route also takes HTTP Basic credentials (firewall lists). */
  basic?: boolean;
}

type JsonSchema = Record<string, unknown>;

const ERROR_STATUSES: Record<string, string> = {
  400: 'bad request (docs/access.md, "Errors")',
  429: 'rate limited, with Retry-After',
};
const KEYED_STATUSES: Record<string, string> = {
  401: 'no valid API key',
  403: 'the key lacks the scope',
};

/** The route's scope (and whether it takes Basic credentials), as `Authenticator.require` tags its hook. */
function scopeOf(r: RouteOptions): { scope?: string; basic?: boolean } {
  for (const h of [r.onRequest ?? []].flat()) {
    if ('scope' in h && typeof h.scope === 'string') return { scope: h.scope, basic: 'basic' in h && h.basic === true };
  }
  return {};
}

/**
 * Collects the routes registered on `app` from now on (call before registering routes). Routes
 * with `schema.hide` (the 405 answers of `methods.ts`) and `HEAD` twins of `GET` routes are left
 * out. Returns the document builder.
 */
export function openApiCollector(
  app: FastifyInstance,
  info: { title: string; version: string; description?: string },
): () => Record<string, unknown> {
  const routes: Described[] = [];
  app.addHook('onRoute', (r: RouteOptions) => {
    const schema: JsonSchema = isRecord(r.schema) ? r.schema : {};
    if (r.url === '*' || schema.hide === true) return;
    const { scope, basic } = scopeOf(r);
    for (const method of [r.method].flat()) {
      if (method === 'HEAD') continue;
      routes.push({ method: method.toLowerCase(), url: r.url, schema, scope, basic });
    }
  });
  return () => {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of [...routes].sort((a, b) =>
      a.url === b.url ? a.method.localeCompare(b.method) : a.url.localeCompare(b.url),
    )) {
      const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      paths[path] ??= {};
      paths[path][r.method] = operation(r);
    }
    return {
      openapi: '3.1.0',
      info,
      paths,
      components: {
        schemas: { Error: ERROR_SCHEMA },
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'an API key (`server.api_keys`); its scopes and max_tlp decide what it may call and see',
          },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
          basic: {
            type: 'http',
            scheme: 'basic',
            description: 'user: the key id, password: the key (firewall lists, with `edl.basic_auth: true`)',
          },
        },
      },
    };
  };
}

function operation(r: Described): Record<string, unknown> {
  const s = r.schema;
  const op: Record<string, unknown> = {
    operationId: `${r.method}${r.url.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
  };
  if (typeof s.summary === 'string') op.summary = s.summary;
  if (typeof s.description === 'string') op.description = s.description;
  const parameters = [...params(s.params, 'path'), ...params(s.querystring, 'query'), ...params(s.headers, 'header')];
  if (parameters.length > 0) op.parameters = parameters;
  if (s.body) op.requestBody = { required: true, content: { 'application/json': { schema: s.body } } };
  const responses: Record<string, unknown> = {};
  const declared = isRecord(s.response) ? s.response : {};
  for (const [status, answer] of Object.entries(declared)) {
    const schema = isRecord(answer) ? answer : {};
    const description = typeof schema.description === 'string' ? schema.description : 'success';
    // fastify's per-media-type form ({ content: { 'text/plain': { schema } } }) is OpenAPI's; a schema with only a description is an answer without a body (304)
    if (schema.content && typeof schema.content === 'object')
      responses[status] = { description, content: schema.content };
    else if (Object.keys(schema).every((k) => k === 'description')) responses[status] = { description };
    else responses[status] = { description, content: { 'application/json': { schema } } };
  }
  if (Object.keys(responses).length === 0) responses['200'] = { description: 'success' };
  const errors = r.scope ? { ...ERROR_STATUSES, ...KEYED_STATUSES } : ERROR_STATUSES;
  for (const [status, description] of Object.entries(errors)) {
    responses[status] ??= {
      description,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  op.responses = responses;
  if (r.scope) {
    op.security = r.basic ? [{ bearer: [] }, { apiKey: [] }, { basic: [] }] : [{ bearer: [] }, { apiKey: [] }];
    op['x-stixgate-scope'] = r.scope;
  } else {
    op.security = [];
  }
  return op;
}

/** The OpenAPI parameters of a route's `params`, `querystring` or `headers` schema. */
function params(schema: unknown, where: 'path' | 'query' | 'header'): Record<string, unknown>[] {
  const props = isRecord(schema) && isRecord(schema.properties) ? schema.properties : {};
  const required = new Set(isRecord(schema) && isStringArray(schema.required) ? schema.required : []);
  return Object.entries(props).map(([name, p]) => {
    const { description, ...rest } = isRecord(p) ? p : {};
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}
