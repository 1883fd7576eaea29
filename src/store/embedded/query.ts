import { StixgateError } from '../../core/errors.js';
import type { Query } from '../contract.js';

export const DEFAULT_QUERY_LIMIT = 100;
export const MAX_QUERY_LIMIT = 1000;

function badRequest(message: string, path: string): StixgateError {
  return new StixgateError('STIXGATE_ERR_API_BAD_REQUEST', message, { location: { path }, reason: 'bad_query' });
}

/** Normalised `modified` (ISO with milliseconds) so that string order is time order. */
export function normaliseTime(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

export function encodeAfter(rowid: number): string {
  return Buffer.from(`r${rowid}`, 'utf8').toString('base64url');
}

export function decodeAfter(after: string | undefined): number {
  if (after === undefined) return 0;
  const text = Buffer.from(after, 'base64url').toString('utf8');
  const m = /^r(\d{1,15})$/.exec(text);
  if (!m) throw badRequest('invalid query continuation token', 'after');
  return Number(m[1]);
}

/** `%`, `_` and the escape character itself matched literally. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface BuiltQuery {
  sql: string;
  params: unknown[];
  limit: number;
}

/**
 * Keyset-paginated SQL for a Query (ordered by rowid; `after` is the last rowid returned).
 * `holders`: with `q.value`, the rowids of the objects holding the value (from the key index).
 */
export function buildQuery(q: Query, holders?: readonly number[]): BuiltQuery {
  const limit = q.limit === undefined ? DEFAULT_QUERY_LIMIT : Math.trunc(q.limit);
  if (!Number.isFinite(limit) || limit < 1 || limit > MAX_QUERY_LIMIT) {
    throw badRequest(`limit must be between 1 and ${MAX_QUERY_LIMIT}`, 'limit');
  }
  const params: unknown[] = [];
  const where: string[] = ['o.rowid > ?'];
  params.push(decodeAfter(q.after));
  const from = 'objects o';
  if (q.value !== undefined) {
    where.push('o.rowid IN (SELECT value FROM json_each(?))');
    params.push(JSON.stringify(holders ?? []));
  }
  if (q.type !== undefined) {
    where.push('o.type = ?');
    params.push(q.type);
  }
  if (!q.includeRevoked) where.push('o.state != 1');
  for (const [key, op] of [
    ['modifiedFrom', '>='],
    ['modifiedTo', '<='],
  ] as const) {
    const raw = q[key];
    if (raw === undefined) continue;
    const t = normaliseTime(raw);
    if (t === null) throw badRequest(`${key} is not an RFC 3339 timestamp`, key);
    where.push(`o.modified ${op} ?`);
    params.push(t);
  }
  if (q.source !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM json_each(o.json, '$.x_stixgate.sources') s WHERE s.key = ?)`);
    params.push(q.source);
  }
  if (q.text !== undefined && q.text !== '') {
    const p = likePattern(q.text);
    where.push(`(json_extract(o.json, '$.name') LIKE ? ESCAPE '\\' OR json_extract(o.json, '$.description') LIKE ? ESCAPE '\\'
      OR json_extract(o.json, '$.pattern') LIKE ? ESCAPE '\\')`);
    params.push(p, p, p);
  }
  const sql = `SELECT o.rowid AS r, o.json AS json FROM ${from} WHERE ${where.join(' AND ')} ORDER BY o.rowid LIMIT ?`;
  params.push(limit + 1);
  return { sql, params, limit };
}
