import { StixgateError } from '../../core/errors.js';
import type { Query } from '../contract.js';

export const DEFAULT_QUERY_LIMIT = 100;
export const MAX_QUERY_LIMIT = 1000;

function badRequest(message: string, path: string): StixgateError {
  return new StixgateError('STIXGATE_ERR_API_BAD_REQUEST', message, { location: { path }, reason: 'bad_query' });
}

export function encodeAfter(firstSeq: number): string {
  return Buffer.from(`f${firstSeq}`, 'utf8').toString('base64url');
}

export function decodeAfter(after: string | undefined): number | undefined {
  if (after === undefined) return undefined;
  const m = /^f(\d{1,15})$/.exec(Buffer.from(after, 'base64url').toString('utf8'));
  if (!m) throw badRequest('invalid query continuation token', 'after');
  return Number(m[1]);
}

/** `*`, `?` and `\` match literally in a wildcard query. */
export function wildcardContains(text: string): string {
  return `*${text.toLowerCase().replace(/[\\*?]/g, (c) => `\\${c}`)}*`;
}

export interface BuiltSearch {
  body: Record<string, unknown>;
  limit: number;
}

/** A search body for a Query, ordered by first write (`first_seq`), paginated with search_after. */
export function buildSearch(q: Query): BuiltSearch {
  const limit = q.limit === undefined ? DEFAULT_QUERY_LIMIT : Math.trunc(q.limit);
  if (!Number.isFinite(limit) || limit < 1 || limit > MAX_QUERY_LIMIT) {
    throw badRequest(`limit must be between 1 and ${MAX_QUERY_LIMIT}`, 'limit');
  }
  const filter: unknown[] = [];
  const mustNot: unknown[] = [];
  if (q.type !== undefined) filter.push({ term: { type: q.type } });
  if (q.value !== undefined) filter.push({ term: { values: q.value } });
  if (q.source !== undefined) filter.push({ term: { 'provenance.sources': q.source } });
  const range: Record<string, string> = {};
  for (const [key, op] of [
    ['modifiedFrom', 'gte'],
    ['modifiedTo', 'lte'],
  ] as const) {
    const raw = q[key];
    if (raw === undefined) continue;
    const t = Date.parse(raw);
    if (Number.isNaN(t)) throw badRequest(`${key} is not an RFC 3339 timestamp`, key);
    range[op] = new Date(t).toISOString();
  }
  if (Object.keys(range).length > 0) filter.push({ range: { modified: range } });
  if (q.text !== undefined && q.text !== '') {
    const value = wildcardContains(q.text);
    filter.push({
      bool: {
        should: ['name', 'description', 'pattern'].map((f) => ({
          wildcard: { [f]: { value, case_insensitive: true } },
        })),
        minimum_should_match: 1,
      },
    });
  }
  if (!q.includeRevoked) mustNot.push({ term: { state: 'revoked' } });
  const body: Record<string, unknown> = {
    size: limit + 1,
    query: { bool: { filter, must_not: mustNot } },
    sort: [{ first_seq: 'asc' }],
    _source: ['json', 'first_seq'],
    track_total_hits: false,
  };
  const after = decodeAfter(q.after);
  if (after !== undefined) body.search_after = [after];
  return { body, limit };
}
