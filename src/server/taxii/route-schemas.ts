/**
 * JSON Schemas of the TAXII routes (fastify validates requests and serialises answers with them;
 * the OpenAPI description is generated from them). Shapes follow TAXII 2.1 CS01.
 */

const ROOT = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$', description: 'API root name' } as const;
const COLLECTION = {
  type: 'string',
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
  description: 'collection id',
} as const;
const OBJECT_ID = {
  type: 'string',
  pattern: '^[a-z][a-z0-9-]{0,249}--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
  description: 'STIX id',
} as const;
const STATUS_ID = {
  type: 'string',
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
  description: 'status id',
} as const;
const TIMESTAMP = { type: 'string', maxLength: 40, description: 'RFC 3339 timestamp' } as const;
const LIST = (what: string) => ({ type: 'string', maxLength: 4096, description: `comma-separated ${what}` }) as const;

const TAXII_ERROR = {
  type: 'object',
  description: 'TAXII error message',
  properties: {
    title: { type: 'string' },
    description: { type: 'string' },
    error_code: { type: 'string' },
    http_status: { type: 'string' },
  },
  required: ['title', 'http_status'],
} as const;
/** The refusals every TAXII route may answer, each a TAXII error message (docs/taxii.md). */
const ERRORS = {
  400: TAXII_ERROR,
  401: TAXII_ERROR,
  403: TAXII_ERROR,
  404: TAXII_ERROR,
  406: TAXII_ERROR,
  429: TAXII_ERROR,
} as const;

const params = (props: Record<string, unknown>) => ({
  type: 'object',
  properties: props,
  required: Object.keys(props),
  additionalProperties: false,
});

const paging = {
  added_after: { ...TIMESTAMP, description: 'only objects added after this date_added' },
  limit: { type: 'integer', minimum: 1, description: 'most objects per page (at most `taxii.max_page_size`)' },
  next: { type: 'string', maxLength: 512, description: 'the `next` of the previous page' },
} as const;
const match = {
  'match[id]': LIST('STIX ids'),
  'match[type]': LIST('STIX types'),
  'match[version]': LIST('versions: last, first, all or timestamps'),
  'match[spec_version]': LIST('STIX spec versions'),
} as const;
/** The path parameters of a route inside one collection. */
const IN_COLLECTION = params({ root: ROOT, collection: COLLECTION });
const query = (props: Record<string, unknown>) => ({ type: 'object', properties: props, additionalProperties: false });

const STIX_OBJECT = {
  type: 'object',
  additionalProperties: true,
  required: ['type', 'id'],
  properties: { type: { type: 'string' }, id: { type: 'string' } },
} as const;

/** A page of a collection: `objects` of one shape, `more` and the `next` to ask for the rest. */
const envelope = (items: unknown) =>
  ({
    type: 'object',
    properties: { more: { type: 'boolean' }, next: { type: 'string' }, objects: { type: 'array', items } },
    required: ['more'],
  }) as const;

const MANIFEST_RECORD = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    date_added: { type: 'string' },
    version: { type: 'string' },
    media_type: { type: 'string' },
  },
  required: ['id', 'date_added', 'version'],
} as const;

const COLLECTION_RESOURCE = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    title: { type: 'string' },
    description: { type: 'string' },
    can_read: { type: 'boolean' },
    can_write: { type: 'boolean' },
    media_types: { type: 'array', items: { type: 'string' } },
  },
  required: ['id', 'title', 'can_read', 'can_write'],
} as const;

const STATUS_DETAIL = {
  type: 'array',
  items: {
    type: 'object',
    properties: { id: { type: 'string' }, version: { type: 'string' }, message: { type: 'string' } },
    required: ['id', 'version'],
  },
} as const;

export const STATUS_RESOURCE = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'complete'] },
    request_timestamp: { type: 'string' },
    total_count: { type: 'integer' },
    success_count: { type: 'integer' },
    successes: STATUS_DETAIL,
    failure_count: { type: 'integer' },
    failures: STATUS_DETAIL,
    pending_count: { type: 'integer' },
    pendings: STATUS_DETAIL,
  },
  required: ['id', 'status', 'total_count', 'success_count', 'failure_count', 'pending_count'],
} as const;

export const discoverySchema = {
  summary: 'TAXII 2.1 server discovery',
  tags: ['taxii'],
  response: {
    200: {
      type: 'object',
      properties: {
        title: { type: 'string' },
        description: { type: 'string' },
        contact: { type: 'string' },
        default: { type: 'string' },
        api_roots: { type: 'array', items: { type: 'string' } },
      },
      required: ['title'],
    },
    ...ERRORS,
  },
} as const;

export const apiRootSchema = {
  summary: 'TAXII 2.1 API root information',
  tags: ['taxii'],
  params: params({ root: ROOT }),
  response: {
    200: {
      type: 'object',
      properties: {
        title: { type: 'string' },
        description: { type: 'string' },
        versions: { type: 'array', items: { type: 'string' } },
        max_content_length: { type: 'integer' },
      },
      required: ['title', 'versions', 'max_content_length'],
    },
    ...ERRORS,
  },
} as const;

export const collectionsSchema = {
  summary: 'TAXII 2.1 collections the caller may read or write',
  tags: ['taxii'],
  params: params({ root: ROOT }),
  response: {
    200: { type: 'object', properties: { collections: { type: 'array', items: COLLECTION_RESOURCE } } },
    ...ERRORS,
  },
} as const;

export const collectionSchema = {
  summary: 'one TAXII 2.1 collection',
  tags: ['taxii'],
  params: IN_COLLECTION,
  response: { 200: COLLECTION_RESOURCE, ...ERRORS },
} as const;

export const objectsSchema = {
  summary: "objects of a collection (the reader's view), in date_added order",
  tags: ['taxii'],
  params: IN_COLLECTION,
  querystring: query({ ...paging, ...match }),
  response: { 200: envelope(STIX_OBJECT), ...ERRORS },
} as const;

export const addObjectsSchema = {
  summary: 'add objects to a writable collection (ingested like any source; answered with a status resource)',
  tags: ['taxii'],
  params: IN_COLLECTION,
  body: {
    type: 'object',
    properties: { objects: { type: 'array', items: { type: 'object' } } },
    required: ['objects'],
    additionalProperties: true,
  },
  response: { 202: STATUS_RESOURCE, ...ERRORS, 413: TAXII_ERROR, 415: TAXII_ERROR },
} as const;

export const manifestSchema = {
  summary: "manifest of a collection's objects (the reader's view)",
  tags: ['taxii'],
  params: IN_COLLECTION,
  querystring: query({ ...paging, ...match }),
  response: { 200: envelope(MANIFEST_RECORD), ...ERRORS },
} as const;

export const objectSchema = {
  summary: "one object of a collection (the reader's view)",
  tags: ['taxii'],
  params: params({ root: ROOT, collection: COLLECTION, object: OBJECT_ID }),
  querystring: query({
    ...paging,
    'match[version]': match['match[version]'],
    'match[spec_version]': match['match[spec_version]'],
  }),
  response: objectsSchema.response,
} as const;

export const versionsSchema = {
  summary: 'versions of one object of a collection',
  tags: ['taxii'],
  params: params({ root: ROOT, collection: COLLECTION, object: OBJECT_ID }),
  querystring: query({ ...paging, 'match[spec_version]': match['match[spec_version]'] }),
  response: {
    200: {
      type: 'object',
      properties: { more: { type: 'boolean' }, versions: { type: 'array', items: { type: 'string' } } },
      required: ['more'],
    },
    ...ERRORS,
  },
} as const;

export const statusSchema = {
  summary: 'status of a POST to a collection',
  tags: ['taxii'],
  params: params({ root: ROOT, status: STATUS_ID }),
  response: { 200: STATUS_RESOURCE, ...ERRORS },
} as const;
