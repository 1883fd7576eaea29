import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { InactiveMatch, LookupIndex, LookupResult } from '../lookup/index.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { TlpLevel } from '../core/stix.js';
import type { Authenticator } from './auth.js';
import { ApiError } from './errors.js';
import { serializeBatch, serializeResult } from './serialize.js';
import { at, first } from '../core/indexed.js';

export const MAX_VALUE_LENGTH = 2048;

export interface LookupRoutesOptions {
  index: LookupIndex;
  metrics: Metrics;
  auth: Authenticator;
  maxBatchSize: number;
  now: () => number;
  /** False while the index cannot be trusted to be current: lookups answer 503 + Retry-After. */
  isServing: () => boolean;
  /** Warninglist flags of a value (undefined: none loaded, the field is left out). */
  flags?: (r: LookupResult) => LookupResult['warninglists'];
  /** Related-object names of an indicator, for `related=true` (undefined: no correlation index). */
  related?: (indicatorId: string, maxTlp: TlpLevel) => Record<string, string[]>;
  /** The same from an index answering over the network (the shared correlation index on OpenSearch). */
  relatedAsync?: (indicatorId: string, maxTlp: TlpLevel) => Promise<Record<string, string[]>>;
  /** Expired and revoked indicators listing a canonical value, as `maxTlp` sees them (`include_inactive=true`). */
  inactive?: (value: string, maxTlp: TlpLevel) => Promise<InactiveMatch[]>;
  /** Each sink's state for a value, as `maxTlp` sees it (`deliveries=true`; src/delivery/why.ts). */
  deliveries?: (value: string, maxTlp: TlpLevel) => Promise<readonly object[]>;
  /** When set, lookups are answered by it instead of `index` (the OpenSearch store's remote lookups). */
  remote?: RemoteLookups;
}

/** Lookups answered asynchronously, with the in-memory index's answers (src/lookup/remote). */
export interface RemoteLookups {
  lookupMany(values: readonly string[], now: number, maxTlp: TlpLevel): Promise<LookupResult[]>;
}

const valueSchema = { type: 'string', maxLength: MAX_VALUE_LENGTH } as const;

const str = { type: 'string' } as const;
const strOrNull = { type: ['string', 'null'] } as const;
/** What an active or an inactive indicator of a result says about the match. */
const MATCH_FIELDS = {
  matched_value: str,
  score: { type: ['integer', 'null'] },
  tlp: str,
  labels: { type: 'array', items: str },
  sources: { type: 'array', items: str },
  first_seen: strOrNull,
  last_seen: strOrNull,
  valid_until: strOrNull,
} as const;
const MATCH_REQUIRED = Object.keys(MATCH_FIELDS);
/** What a result may carry (an allowlist; `serializeResult` writes exactly these fields, in this shape). */
export const lookupResultSchema = {
  type: 'object',
  required: ['value', 'matched', 'indicators'],
  properties: {
    value: str,
    type: str,
    matched: { type: 'boolean' },
    invalid: str,
    warninglists: {
      type: 'array',
      items: { type: 'object', properties: { list: str, type: str, entry: str, source: str, private_suffix: str } },
    },
    related: { type: 'object', additionalProperties: { type: 'array', items: str } },
    inactive: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'state', 'ended', ...MATCH_REQUIRED],
        properties: {
          id: str,
          state: { type: 'string', enum: ['expired', 'revoked'] },
          ended: strOrNull,
          ...MATCH_FIELDS,
        },
      },
    },
    deliveries: {
      type: 'array',
      description: "each sink's state for the value (`deliveries=true`): the entries of GET /api/v1/deliveries",
      items: { type: 'object' },
    },
    indicators: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'match', ...MATCH_REQUIRED, 'sightings'],
        properties: { id: str, match: str, ...MATCH_FIELDS, sightings: { type: 'integer' } },
      },
    },
  },
} as const;
export const lookupBatchSchema = {
  type: 'object',
  required: ['results'],
  properties: { results: { type: 'array', items: lookupResultSchema } },
} as const;

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * `GET /api/v1/lookup?value=…` (one value, or repeated `value`s) and `POST /api/v1/lookup` `{ values: [...] }`;
 * `related`, `include_inactive` and `deliveries` (query or body) add names, inactive matches and the delivery ledger's entries.
 */
export function lookupRoutes(app: FastifyInstance, o: LookupRoutesOptions): void {
  const { index, maxBatchSize, now } = o;
  const onRequest = o.auth.require('lookup');
  const { lookupValues, lookupDuration } = o.metrics;
  // prom-client costs well under a microsecond per update: recorded per request, no batching needed
  const record = (kind: 'single' | 'batch', hit: number, miss: number, invalid: number, seconds: number): void => {
    if (hit) lookupValues.inc({ result: 'hit' }, hit);
    if (miss) lookupValues.inc({ result: 'miss' }, miss);
    if (invalid) lookupValues.inc({ result: 'invalid' }, invalid);
    lookupDuration.observe({ kind }, seconds);
  };

  const check = (n: number): void => {
    // an index that cannot follow the store (OpenSearch unreachable or red) must not answer
    // "not found": the client is told to come back (a 503 with Retry-After, never a false "no match")
    if (!o.isServing())
      throw new ApiError(
        503,
        'STIXGATE_ERR_API_UNAVAILABLE',
        'lookup index is not current (store unavailable or still loading); retry later',
        { 'retry-after': '5' },
      );
    if (n > maxBatchSize) {
      throw new ApiError(
        400,
        'STIXGATE_ERR_API_BAD_REQUEST',
        `too many values: ${n}; at most ${maxBatchSize} per request (server.max_batch_size)`,
      );
    }
  };

  /** Adds the optional flags and related names; the hot path is untouched when neither is configured. */
  const decorate = (req: FastifyRequest, r: LookupResult, related: boolean): LookupResult => {
    if (o.flags && r.invalid === undefined) {
      const f = o.flags(r);
      if (f?.length) r = { ...r, warninglists: f };
    }
    if (related && o.related && r.matched) {
      const summarise = o.related;
      const maxTlp = req.principal?.maxTlp ?? 'clear';
      r = { ...r, related: mergeNames(r.indicators.map((m) => summarise(m.id, maxTlp))) };
    }
    return r;
  };

  /** `related=true` from `relatedAsync`: the names of every matched answer, read after the lookup. */
  const relatedLater = async (req: FastifyRequest, rs: LookupResult[]): Promise<LookupResult[]> => {
    const summarise = o.relatedAsync;
    if (!summarise) return rs;
    const maxTlp = req.principal?.maxTlp ?? 'clear';
    return Promise.all(
      rs.map(async (r) =>
        r.matched
          ? { ...r, related: mergeNames(await Promise.all(r.indicators.map((m) => summarise(m.id, maxTlp)))) }
          : r,
      ),
    );
  };

  /**
   * `include_inactive=true`: each valid value's expired and revoked indicators (exact value), read
   * from the store through the caller's view; never hits, so `matched` and the counts are unchanged.
   */
  const withInactive = async (req: FastifyRequest, results: LookupResult[]): Promise<LookupResult[]> => {
    const maxTlp = req.principal?.maxTlp ?? 'clear';
    return Promise.all(
      results.map(async (r) =>
        r.invalid !== undefined ? r : { ...r, inactive: o.inactive ? await o.inactive(r.value, maxTlp) : [] },
      ),
    );
  };

  /** `deliveries=true` and `include_inactive=true`: the parts of the answer read from the store. */
  const fromStore = async (
    req: FastifyRequest,
    results: LookupResult[],
    f: { include_inactive?: boolean; deliveries?: boolean },
  ): Promise<LookupResult[]> => {
    let rs = f.include_inactive === true ? await withInactive(req, results) : results;
    if (f.deliveries === true) {
      const maxTlp = req.principal?.maxTlp ?? 'clear';
      rs = await Promise.all(
        rs.map(async (r) =>
          r.invalid !== undefined ? r : { ...r, deliveries: o.deliveries ? await o.deliveries(r.value, maxTlp) : [] },
        ),
      );
    }
    return rs;
  };

  /** Counts, times and decorates answers (both the in-memory and the remote path). */
  const finish = (
    req: FastifyRequest,
    kind: 'single' | 'batch',
    results: LookupResult[],
    related: boolean,
    started: number,
  ): LookupResult[] => {
    let hit = 0;
    let miss = 0;
    let invalid = 0;
    for (let i = 0; i < results.length; i++) {
      let r = at(results, i);
      if (r.invalid !== undefined) invalid++;
      else if (r.matched) hit++;
      else miss++;
      if (o.flags || related) r = decorate(req, r, related);
      results[i] = r;
    }
    record(kind, hit, miss, invalid, (performance.now() - started) / 1000);
    return results;
  };

  const run = (req: FastifyRequest, values: readonly string[], related = false): LookupResult[] => {
    check(values.length);
    const started = performance.now();
    const maxTlp = req.principal?.maxTlp ?? 'clear';
    const t = now();
    const results = new Array<LookupResult>(values.length);
    for (let i = 0; i < values.length; i++) results[i] = index.lookup(at(values, i), t, maxTlp);
    return finish(req, 'batch', results, related, started);
  };

  const runOne = (req: FastifyRequest, value: string, related = false): LookupResult => {
    check(1);
    const started = performance.now();
    const r = index.lookup(value, now(), req.principal?.maxTlp ?? 'clear');
    return first(finish(req, 'single', [r], related, started));
  };

  /** The remote path (OpenSearch store, src/lookup/remote): one store request at most per call. */
  const runRemote = async (
    req: FastifyRequest,
    remote: RemoteLookups,
    values: readonly string[],
    kind: 'single' | 'batch',
    related: boolean,
  ): Promise<LookupResult[]> => {
    check(values.length);
    const started = performance.now();
    const results = await remote.lookupMany(values, now(), req.principal?.maxTlp ?? 'clear');
    return finish(req, kind, results, related, started);
  };

  app.get<{
    Querystring: { value: string | string[]; related?: boolean; include_inactive?: boolean; deliveries?: boolean };
  }>(
    '/api/v1/lookup',
    {
      onRequest,
      schema: {
        querystring: {
          type: 'object',
          required: ['value'],
          additionalProperties: false,
          properties: {
            value: { anyOf: [valueSchema, { type: 'array', items: valueSchema, minItems: 1 }] },
            related: {
              type: 'boolean',
              description:
                'add the names of the malware, actors, campaigns, reports… the matched indicators are linked to',
            },
            include_inactive: {
              type: 'boolean',
              description:
                'add `inactive`: the expired and revoked indicators listing the value, with their state and when they ended (never hits)',
            },
            deliveries: {
              type: 'boolean',
              description:
                "add `deliveries`: each sink's state for the value from the delivery ledger (docs/deliveries.md)",
            },
          },
        },
      },
    },
    (req, reply) => {
      const v = req.query.value;
      const related = req.query.related === true;
      reply.header('content-type', JSON_TYPE);
      const send = (rs: LookupResult[]) =>
        reply.send(typeof v === 'string' ? serializeResult(first(rs)) : serializeBatch(rs));
      const extra = req.query.include_inactive === true || req.query.deliveries === true;
      if (o.remote) {
        const kind = typeof v === 'string' ? 'single' : 'batch';
        return runRemote(req, o.remote, typeof v === 'string' ? [v] : v, kind, related)
          .then((rs) => (related ? relatedLater(req, rs) : rs))
          .then((rs) => (extra ? fromStore(req, rs, req.query) : rs))
          .then(send);
      }
      const results = typeof v === 'string' ? [runOne(req, v, related)] : run(req, v, related);
      // the hot path stays synchronous; only include_inactive, deliveries and shared related names read the store
      if (related && o.relatedAsync)
        return relatedLater(req, results)
          .then((rs) => (extra ? fromStore(req, rs, req.query) : rs))
          .then(send);
      return extra ? fromStore(req, results, req.query).then(send) : send(results);
    },
  );

  app.post<{ Body: { values: string[]; related?: boolean; include_inactive?: boolean; deliveries?: boolean } }>(
    '/api/v1/lookup',
    {
      onRequest,
      schema: {
        body: {
          type: 'object',
          required: ['values'],
          additionalProperties: false,
          properties: {
            values: { type: 'array', items: valueSchema },
            related: { type: 'boolean' },
            include_inactive: { type: 'boolean' },
            deliveries: { type: 'boolean' },
          },
        },
      },
    },
    (req, reply) => {
      reply.header('content-type', JSON_TYPE);
      const extra = req.body.include_inactive === true || req.body.deliveries === true;
      const send = (rs: LookupResult[]) => reply.send(serializeBatch(rs));
      if (o.remote)
        return runRemote(req, o.remote, req.body.values, 'batch', req.body.related === true)
          .then((rs) => (req.body.related === true ? relatedLater(req, rs) : rs))
          .then((rs) => (extra ? fromStore(req, rs, req.body) : rs))
          .then(send);
      const results = run(req, req.body.values, req.body.related === true);
      if (req.body.related === true && o.relatedAsync)
        return relatedLater(req, results)
          .then((rs) => (extra ? fromStore(req, rs, req.body) : rs))
          .then(send);
      return extra ? fromStore(req, results, req.body).then(send) : send(results);
    },
  );
}

/** One answer's related names from each of its indicators' summaries, each name once. */
function mergeNames(summaries: readonly Record<string, string[]>[]): Record<string, string[]> {
  const merged: Record<string, string[]> = {};
  for (const s of summaries)
    for (const [k, names] of Object.entries(s)) {
      const list = merged[k] ?? [];
      merged[k] = list;
      for (const n of names) if (!list.includes(n)) list.push(n);
    }
  return merged;
}
