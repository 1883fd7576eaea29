import type { FastifyInstance } from 'fastify';
import { DEFAULT_POLICY, type AccessPolicy } from '../access/policy.js';
import { viewOf } from '../access/view.js';
import { TLP_LEVELS } from '../core/stix.js';
import { CursorSealer } from '../search/cursor.js';
import { OBJECT_STATES, filterKey, parseFilter, type RawFilter } from '../search/filter.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, searchPage } from '../search/pages.js';
import type { Store } from '../store/contract.js';
import { principalOf, type Authenticator } from './auth.js';
import { ApiError } from './errors.js';
import { provenanceOf } from './provenance.js';
import { scoreHistoryOf, scoreHistorySchema } from './score-history.js';

export interface ObjectRoutesOptions {
  store: Store;
  auth: Authenticator;
  access?: AccessPolicy;
  /** Seals paging cursors (default: a random key per process). */
  cursors?: CursorSealer;
}

export const STIX_ID =
  '^[a-z][a-z0-9-]{0,62}--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
/** The path parameters of a route about one object: its STIX id. */
export const OBJECT_ID_PARAMS = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', pattern: STIX_ID } },
} as const;
const str = { type: 'string' } as const;
const list = (pattern: string, description: string) => ({
  type: 'string',
  maxLength: 1024,
  pattern: `^${pattern}(,${pattern})*$`,
  description,
});
const stixObject = {
  type: 'object',
  additionalProperties: true,
  required: ['type', 'id'],
  properties: { type: str, id: str },
} as const;

export const searchQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    type: list('[a-z][a-z0-9-]{0,62}', 'STIX types, comma-separated (any of)'),
    value: {
      type: 'string',
      maxLength: 2048,
      description: 'an observable value (canonicalised as lookups do): objects standing for it',
    },
    cidr: {
      type: 'string',
      maxLength: 64,
      description: 'an IPv4/IPv6 CIDR: objects standing for an address or range inside it',
    },
    source: { type: 'string', maxLength: 256, description: 'a source among the contributions the caller sees' },
    label: { type: 'string', maxLength: 256, description: "a label of the caller's view" },
    min_score: { type: 'integer', minimum: 0, maximum: 100 },
    max_score: { type: 'integer', minimum: 0, maximum: 100 },
    tlp: list(
      `(${TLP_LEVELS.map((l) => l.replace('+', '\\+')).join('|')})`,
      "TLPs of the caller's view, comma-separated (any of)",
    ),
    modified_since: { type: 'string', maxLength: 64, description: 'RFC 3339: objects modified at or after it' },
    state: list(`(${OBJECT_STATES.join('|')})`, 'object states, comma-separated (default active)'),
    limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
    cursor: { type: 'string', maxLength: 2048, description: 'the `next` of the previous page (same filters)' },
  },
} as const;

export const searchResponseSchema = {
  type: 'object',
  required: ['objects'],
  properties: {
    objects: { type: 'array', items: stixObject },
    next: {
      type: 'string',
      description:
        'cursor of the next page; absent on the last page (a page may be short, even empty, and still have one)',
    },
  },
} as const;

export const objectResponseSchema = {
  type: 'object',
  required: ['object', 'provenance'],
  properties: {
    object: stixObject,
    provenance: {
      type: 'array',
      items: {
        type: 'object',
        required: ['source', 'tlp', 'first_seen', 'last_seen'],
        properties: {
          source: str,
          tlp: { type: 'string', enum: [...TLP_LEVELS] },
          first_seen: str,
          last_seen: str,
          confidence: { type: 'integer' },
          labels: { type: 'array', items: str },
        },
      },
    },
    score_history: scoreHistorySchema,
  },
} as const;

type SearchQuery = RawFilter & { limit: number; cursor?: string };

/**
 * `GET /api/v1/objects` (search with filters and cursor paging) and `GET /api/v1/objects/:id`
 * (one object with its provenance), both on the caller's view (docs/access.md) and needing the
 * `search` scope. An object the caller cannot see is a 404, as an unknown id is.
 */
export function objectRoutes(app: FastifyInstance, o: ObjectRoutesOptions): void {
  const policy = o.access ?? DEFAULT_POLICY;
  const sealer = o.cursors ?? new CursorSealer();
  app.get<{ Querystring: SearchQuery }>(
    '/api/v1/objects',
    {
      onRequest: o.auth.require('search'),
      schema: { querystring: searchQuerySchema, response: { 200: searchResponseSchema } },
    },
    async (req) => {
      const { limit, cursor, ...raw } = req.query;
      const parsed = parseFilter(raw);
      if (!parsed.ok) throw new ApiError(400, 'STIXGATE_ERR_API_BAD_REQUEST', parsed.message);
      const ceiling = principalOf(req).maxTlp;
      const scope = { filter: filterKey(parsed.filter), ceiling };
      let after: string | undefined;
      if (cursor !== undefined) {
        after = sealer.open(cursor, scope);
        if (after === undefined)
          throw new ApiError(
            400,
            'STIXGATE_ERR_API_BAD_REQUEST',
            'invalid cursor: not one this server issued for these filters',
          );
      }
      const page = await searchPage(o.store, parsed.filter, { ceiling, policy }, { limit, after });
      return page.next === undefined
        ? { objects: page.objects }
        : { objects: page.objects, next: sealer.seal(page.next, scope) };
    },
  );
  app.get<{ Params: { id: string } }>(
    '/api/v1/objects/:id',
    {
      onRequest: o.auth.require('search'),
      schema: {
        params: OBJECT_ID_PARAMS,
        response: { 200: objectResponseSchema },
      },
    },
    async (req) => {
      const ceiling = principalOf(req).maxTlp;
      const stored = await o.store.get(req.params.id);
      const view = stored && viewOf(stored, ceiling, policy);
      if (!view) throw new ApiError(404, 'STIXGATE_ERR_API_NOT_FOUND', 'no such object');
      const history = await scoreHistoryOf(o.store, stored, ceiling, policy);
      return { object: view, provenance: provenanceOf(view, policy), ...(history ? { score_history: history } : {}) };
    },
  );
}
