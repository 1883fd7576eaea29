/** JSON schemas of the admin and ingest routes' answers (fastify serialises with them; the OpenAPI document reads them). */

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const counts = { type: 'object', additionalProperties: true } as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' } },
} as const;

const lastRun = {
  type: 'object',
  required: ['started', 'outcome'],
  properties: {
    started: str,
    ended: str,
    outcome: { type: 'string', enum: ['running', 'success', 'error'] },
    error: str,
  },
} as const;

const jobProperties = {
  id: str,
  type: str,
  state: { type: 'string', enum: ['idle', 'running', 'paused', 'auth_refused'] },
  paused: { type: 'boolean' },
  running: { type: 'boolean' },
  last_run: lastRun,
  next_run: str,
  deferred_until: str,
  consecutive_failures: int,
  last_summary: counts,
} as const;
const jobRequired = ['id', 'type', 'state', 'paused', 'running', 'consecutive_failures'] as const;

export const sourceStateSchema = {
  type: 'object',
  required: jobRequired,
  properties: { ...jobProperties, cursor: str },
} as const;

export const sinkStateSchema = {
  type: 'object',
  required: [...jobRequired, 'max_tlp', 'cursor', 'head', 'lag'],
  properties: { ...jobProperties, max_tlp: str, cursor: int, head: int, lag: int },
} as const;

const runProperties = { id: str, ran: { type: 'boolean' }, started: { type: 'boolean' }, summary: counts } as const;
export const runAnswerSchema = { type: 'object', required: ['id', 'ran'], properties: runProperties } as const;
export const pushAnswerSchema = {
  type: 'object',
  required: ['id', 'ran'],
  properties: {
    ...runProperties,
    samples: {
      type: 'array',
      items: {
        type: 'object',
        required: ['op', 'type', 'value', 'tlp', 'fields'],
        properties: {
          op: { type: 'string', enum: ['upsert', 'remove'] },
          reason: str,
          type: str,
          value: str,
          tlp: str,
          fields: counts,
        },
      },
    },
  },
} as const;

export const statsSchema = {
  type: 'object',
  required: ['objects', 'byType', 'revoked', 'expired', 'changeLogHead', 'cursors'],
  properties: {
    objects: int,
    byType: { type: 'object', additionalProperties: int },
    revoked: int,
    expired: int,
    changeLogHead: int,
    cursors: { type: 'object', additionalProperties: str },
    bytesOnDisk: int,
  },
} as const;

const location = {
  type: 'object',
  properties: { source: str, file: str, line: int, column: int, index: int, objectId: str, path: str },
} as const;

export const ingestReportSchema = {
  type: 'object',
  required: ['source_id', 'type', 'summary', 'objects', 'objects_truncated'],
  properties: {
    source_id: str,
    type: str,
    summary: counts,
    objects: {
      type: 'array',
      items: {
        type: 'object',
        required: ['status'],
        properties: {
          id: str,
          status: { type: 'string', enum: ['accepted', 'filtered', 'rejected'] },
          reason: str,
          message: str,
          location,
        },
      },
    },
    objects_truncated: { type: 'boolean' },
  },
} as const;
