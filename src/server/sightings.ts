import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TlpLevel } from '../core/stix.js';
import { DEFAULT_POLICY, canSee, type AccessPolicy } from '../access/policy.js';
import type { LookupIndex } from '../lookup/index.js';
import type { Scoring } from '../score/model.js';
import { MAX_SIGHTING_COUNT, recordSightings, sightingId, type SightingReport } from '../store/sightings.js';
import type { Store } from '../store/contract.js';
import { principalOf, type Authenticator } from './auth.js';
import { ApiError } from './errors.js';
import { MAX_VALUE_LENGTH, type RemoteLookups } from './lookup.js';
import type { ApiScope } from './schema.js';

/** The scope a key needs to report sightings (add it to API_SCOPES). */
export const SIGHTINGS_SCOPE: ApiScope = 'sightings';
export const DEFAULT_MAX_SIGHTINGS = 500;
/** Reports may be dated at most this far in the future (clock skew). */
export const MAX_FUTURE_MS = 5 * 60_000;

/** Indicator ids a looked-up value matches among those the caller may see; `invalid` when it is not an observable. */
export type ResolveValue = (
  value: string,
  maxTlp: TlpLevel,
) => { ids: string[]; invalid?: string } | Promise<{ ids: string[]; invalid?: string }>;

/** A resolver from the in-memory lookup index: every indicator the value's lookup matches (exact, CIDR, domain). */
export function resolverFromIndex(index: LookupIndex, now: () => number = Date.now): ResolveValue {
  return (value, maxTlp) => {
    const r = index.lookup(value, now(), maxTlp);
    return { ids: r.indicators.map((m) => m.id), ...(r.invalid !== undefined ? { invalid: r.invalid } : {}) };
  };
}

/** A resolver through lookups answered asynchronously (the OpenSearch store's remote lookups). */
export function resolverFromRemote(remote: RemoteLookups, now: () => number = Date.now): ResolveValue {
  return async (value, maxTlp) => {
    const [r] = await remote.lookupMany([value], now(), maxTlp);
    if (!r) return { ids: [] };
    return { ids: r.indicators.map((m) => m.id), ...(r.invalid !== undefined ? { invalid: r.invalid } : {}) };
  };
}

export interface SightingsRoutesOptions {
  store: Store;
  auth: Authenticator;
  scoring: Scoring;
  resolve: ResolveValue;
  now: () => number;
  /** The access policy (default_tlp) an indicator's visibility is judged under. */
  access?: AccessPolicy;
  /** Most sightings per request (400 above). Default 500. */
  maxSightings?: number;
  /** False while the lookup index is not current: 503 + Retry-After (values could not be resolved). */
  isServing?: () => boolean;
}

interface SightingInput {
  value?: string;
  indicator_id?: string;
  count?: number;
  first_seen?: string;
  last_seen?: string;
  where?: string;
  observed_data_refs?: string[];
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

const itemSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    value: { type: 'string', minLength: 1, maxLength: MAX_VALUE_LENGTH },
    indicator_id: { type: 'string', pattern: `^indicator--${UUID}$` },
    count: { type: 'integer', minimum: 1, maximum: MAX_SIGHTING_COUNT },
    first_seen: { type: 'string', maxLength: 40 },
    last_seen: { type: 'string', maxLength: 40 },
    where: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001f]+$' },
    observed_data_refs: { type: 'array', maxItems: 16, items: { type: 'string', pattern: `^observed-data--${UUID}$` } },
  },
} as const;

const resultSchema = {
  type: 'object',
  required: ['recorded', 'unmatched'],
  properties: {
    recorded: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'indicator_id', 'sighting_id', 'added'],
        properties: {
          index: { type: 'integer' },
          value: { type: 'string' },
          indicator_id: { type: 'string' },
          sighting_id: { type: 'string' },
          added: { type: 'integer' },
        },
      },
    },
    unmatched: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'reason'],
        properties: {
          index: { type: 'integer' },
          value: { type: 'string' },
          indicator_id: { type: 'string' },
          reason: { type: 'string' },
          invalid: { type: 'string' },
        },
      },
    },
  },
} as const;

function bad(message: string): ApiError {
  return new ApiError(400, 'STIXGATE_ERR_API_BAD_REQUEST', message);
}

function time(v: string | undefined, at: string, fallback: number, now: number): number {
  if (v === undefined) return fallback;
  const t = RFC3339.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw bad(`${at} is not an RFC 3339 timestamp (e.g. 2024-03-01T12:00:00Z)`);
  if (t > now + MAX_FUTURE_MS) throw bad(`${at} is in the future`);
  return t;
}

interface Unmatched {
  index: number;
  value?: string;
  indicator_id?: string;
  reason: 'no_indicator' | 'unknown_indicator' | 'invalid_value';
  invalid?: string;
}

/**
 * `POST /api/v1/sightings` `{ sightings: [{ value | indicator_id, count?, first_seen?, last_seen?,
 * where?, observed_data_refs? }] }`: records that a SIEM saw indicators (docs/scoring.md §4).
 * Needs a key with the `sightings` scope; `where` defaults to the key id. Values resolve through
 * the lookup index to every indicator they match that the key may see; ids must name a stored,
 * unrevoked indicator the key may see. Answers what was recorded and what matched nothing.
 */
export function sightingsRoutes(app: FastifyInstance, o: SightingsRoutesOptions): void {
  const max = o.maxSightings ?? DEFAULT_MAX_SIGHTINGS;
  // one request at a time records (the count delta reads then writes)
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };

  app.post<{ Body: { sightings: SightingInput[] } }>(
    '/api/v1/sightings',
    {
      onRequest: o.auth.require(SIGHTINGS_SCOPE),
      schema: {
        body: {
          type: 'object',
          required: ['sightings'],
          additionalProperties: false,
          properties: { sightings: { type: 'array', minItems: 1, items: itemSchema } },
        },
        response: { 200: resultSchema },
      },
    },
    async (req: FastifyRequest<{ Body: { sightings: SightingInput[] } }>) => {
      const list = req.body.sightings;
      if (list.length > max) throw bad(`too many sightings: ${list.length}; at most ${max} per request`);
      if (o.isServing && !o.isServing()) {
        throw new ApiError(
          503,
          'STIXGATE_ERR_API_UNAVAILABLE',
          'lookup index is not current (store unavailable or still loading); retry later',
          { 'retry-after': '5' },
        );
      }
      const now = o.now();
      const principal = principalOf(req);
      const maxTlp = principal.maxTlp;
      const defaultWhere = principal.keyId ?? 'anonymous';
      const parsed = list.map((s, i) => {
        const at = `sightings[${i}]`;
        if ((s.value === undefined) === (s.indicator_id === undefined))
          throw bad(`${at}: give exactly one of value or indicator_id`);
        const lastSeen = time(s.last_seen, `${at}.last_seen`, now, now);
        const firstSeen = time(s.first_seen, `${at}.first_seen`, lastSeen, now);
        if (firstSeen > lastSeen) throw bad(`${at}: first_seen is after last_seen`);
        return { i, s, firstSeen, lastSeen, where: s.where ?? defaultWhere, count: s.count ?? 1 };
      });

      const unmatched: Unmatched[] = [];
      const wanted = parsed.flatMap((p) => (p.s.indicator_id !== undefined ? [p.s.indicator_id] : []));
      const byId = wanted.length > 0 ? await o.store.getMany(wanted) : new Map();
      const reports: (SightingReport & { index: number; value?: string })[] = [];
      for (const p of parsed) {
        let ids: string[];
        if (p.s.indicator_id !== undefined) {
          const obj = byId.get(p.s.indicator_id);
          // an indicator the caller cannot see is answered exactly as an unknown one
          if (obj?.type !== 'indicator' || obj.revoked === true || !canSee(obj, maxTlp, o.access ?? DEFAULT_POLICY)) {
            unmatched.push({ index: p.i, indicator_id: p.s.indicator_id, reason: 'unknown_indicator' });
            continue;
          }
          ids = [p.s.indicator_id];
        } else {
          const value = p.s.value;
          if (value === undefined) throw bad(`sightings[${p.i}]: give exactly one of value or indicator_id`);
          const r = await o.resolve(value, maxTlp);
          if (r.invalid !== undefined) {
            unmatched.push({ index: p.i, value: p.s.value, reason: 'invalid_value', invalid: r.invalid });
            continue;
          }
          if (r.ids.length === 0) {
            unmatched.push({ index: p.i, value: p.s.value, reason: 'no_indicator' });
            continue;
          }
          ids = r.ids;
        }
        for (const id of ids) {
          reports.push({
            index: p.i,
            ...(p.s.value !== undefined ? { value: p.s.value } : {}),
            indicatorId: id,
            count: p.count,
            firstSeen: p.firstSeen,
            lastSeen: p.lastSeen,
            where: p.where,
            ...(p.s.observed_data_refs ? { observedDataRefs: p.s.observed_data_refs } : {}),
          });
        }
      }
      const result =
        reports.length > 0
          ? await serial(() => recordSightings(o.store, o.scoring, reports, now, { tlp: 'amber' }))
          : { recorded: [], indicatorsUpdated: 0 };
      const added = new Map(result.recorded.map((r) => [r.id, r.added]));
      return {
        recorded: reports.map((r) => {
          const id = sightingId(r);
          return {
            index: r.index,
            ...(r.value !== undefined ? { value: r.value } : {}),
            indicator_id: r.indicatorId,
            sighting_id: id,
            added: added.get(id) ?? 0,
          };
        }),
        unmatched,
      };
    },
  );
}
