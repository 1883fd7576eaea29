import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Rejection } from '../../core/errors.js';
import { isRecord } from '../../core/guards.js';
import { checkObject, DEFAULT_CAPS } from '../../core/stix-check.js';
import type { MappedItem, CommonSourceConfig, Source } from '../../pipeline/types.js';
import { runSource } from '../../pipeline/runner.js';
import type { HttpClient } from '../../http/types.js';
import { ApiError } from '../errors.js';
import { taxiiGuard, type Collection } from './collections.js';
import { taxiiParam } from './params.js';
import type { TaxiiContext } from './context.js';
import { send } from './read.js';
import * as schemas from './route-schemas.js';
import type { StatusDetail } from './status.js';
import { versionOf } from './view.js';
import { formatUs } from './clock.js';
import { principalOf } from '../auth.js';

/** Most objects one POST may carry (each is answered in the status resource). */
export const MAX_POSTED_OBJECTS = 10_000;

/** The provenance source of objects posted to a collection. */
export const postedSource = (c: Collection): string => `taxii:${c.root}/${c.name}`;

// cast: a stand-in the posted-objects run never calls (it fetches nothing)
const NO_HTTP: HttpClient = {
  request: async () => {
    throw new Error('a TAXII POST makes no HTTP requests');
  },
} as unknown as HttpClient;

interface Posted {
  index: number;
  id: string;
  version: string;
}

function detail(p: Posted, message?: string): StatusDetail {
  return message === undefined ? { id: p.id, version: p.version } : { id: p.id, version: p.version, message };
}

/**
 * POST …/objects/: the envelope's objects are ingested as a source run does (the STIX checks of
 * the taxii21 source, then the runner's value gate, TLP and allowlist filters, markings and the
 * store's merge), under the collection's own source id. The answer is a status resource naming
 * each object as a success or a failure with its reason; writes land in the store and its
 * change log before the answer.
 */
async function addObjects(ctx: TaxiiContext, req: FastifyRequest, c: Collection) {
  const body: unknown = req.body;
  // the route schema requires an envelope with `objects`: anything else is refused there first
  if (!isRecord(body) || !Array.isArray(body.objects))
    throw new ApiError(400, 'STIXGATE_ERR_API_BAD_REQUEST', 'the body is not an envelope with objects');
  const objects: unknown[] = body.objects;
  if (objects.length > MAX_POSTED_OBJECTS)
    throw new ApiError(413, 'STIXGATE_ERR_API_TOO_LARGE', `at most ${MAX_POSTED_OBJECTS} objects per request`);
  const source = postedSource(c);
  const requestTime = ctx.now();
  const posted: Posted[] = [];
  const failed = new Map<string, string>();
  const items: MappedItem[] = [];
  const rejections: Rejection[] = [];
  objects.forEach((raw, index) => {
    const r = checkObject(raw, DEFAULT_CAPS);
    const rec = isRecord(raw) ? raw : {};
    const id = r.ok ? r.object.id : (r.id ?? (typeof rec.id === 'string' ? rec.id.slice(0, 120) : `#${index}`));
    const version = r.ok
      ? (versionOf(r.object) ?? formatUs(requestTime * 1000))
      : String(rec.modified ?? rec.created ?? '');
    posted.push({ index, id, version });
    if (!r.ok) {
      failed.set(id, `${r.reason}: ${r.message}`);
      rejections.push({
        reason: r.reason,
        message: r.message,
        location: { source, index, ...(r.id ? { objectId: r.id } : {}) },
      });
      return;
    }
    const item: MappedItem = { object: r.object };
    if (typeof r.object.confidence === 'number') item.confidence = r.object.confidence;
    items.push(item);
  });
  const run: Source = {
    async *pages() {
      yield { items, rejections, received: objects.length };
    },
  };
  // cast: a posted run reads these fields only; the fetch settings of a source config do not apply
  const config = {
    type: 'taxii21_post',
    enabled: true,
    labels: [],
    tlp: c.config.write_tlp,
    confidence: c.config.write_confidence,
  } as unknown as CommonSourceConfig;
  await runSource({
    id: source,
    source: run,
    config,
    store: ctx.store,
    http: NO_HTTP,
    logger: ctx.logger,
    metrics: ctx.metrics,
    allowlist: ctx.ingest.allowlist,
    allowRed: ctx.ingest.allowRed,
    defaultTlp: ctx.ingest.defaultTlp,
    signal: new AbortController().signal,
    now: ctx.now,
    onDropped: (r) => {
      const id = r.location?.objectId;
      if (id !== undefined && !failed.has(id)) failed.set(id, `${r.reason}: ${r.message}`);
    },
  });
  // what was written is dated (and so served) at once
  ctx.clock.advance(await ctx.store.head(), ctx.now(), true);
  const successes: StatusDetail[] = [];
  const failures: StatusDetail[] = [];
  for (const p of posted) {
    const why = failed.get(p.id);
    if (why === undefined) successes.push(detail(p));
    else failures.push(detail(p, why));
  }
  ctx.metrics.taxiiReceived.inc({ collection: c.name, outcome: 'success' }, successes.length);
  ctx.metrics.taxiiReceived.inc({ collection: c.name, outcome: 'failure' }, failures.length);
  return ctx.statuses.add(principalOf(req).keyId, c.root, {
    status: 'complete',
    request_timestamp: formatUs(requestTime * 1000),
    total_count: posted.length,
    success_count: successes.length,
    successes,
    failure_count: failures.length,
    failures,
    pending_count: 0,
    pendings: [],
  });
}

export function writeRoutes(app: FastifyInstance, ctx: TaxiiContext): void {
  const errorHandler = ctx.errorHandler;
  app.post(
    '/taxii2/:root/collections/:collection/objects/',
    { schema: schemas.addObjectsSchema, onRequest: taxiiGuard(ctx.auth, ctx.reg, 'write'), errorHandler },
    async (req, reply) => {
      const c = ctx.reg.collection(taxiiParam(req, 'root'), taxiiParam(req, 'collection'));
      // the guard answered 404 already for an unknown collection
      if (!c) throw new ApiError(404, 'STIXGATE_ERR_API_NOT_FOUND', 'no such collection');
      const status = await addObjects(ctx, req, c);
      return send(reply.code(202), status);
    },
  );

  app.get(
    '/taxii2/:root/status/:status/',
    { schema: schemas.statusSchema, onRequest: taxiiGuard(ctx.auth, ctx.reg, 'status'), errorHandler },
    async (req, reply) => {
      const status = ctx.statuses.get(taxiiParam(req, 'status'), principalOf(req).keyId, taxiiParam(req, 'root'));
      if (!status) throw new ApiError(404, 'STIXGATE_ERR_API_NOT_FOUND', 'no such status');
      return send(reply, status);
    },
  );
}
