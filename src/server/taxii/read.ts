import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { StixObject } from '../../core/stix.js';
import { ApiError } from '../errors.js';
import { isRecord } from '../../core/guards.js';
import { canRead, canWrite, taxiiGuard, type ApiRoot, type Collection } from './collections.js';
import { taxiiParam } from './params.js';
import { parseUs } from './clock.js';
import type { TaxiiContext } from './context.js';
import { TAXII_MEDIA_TYPE } from './media.js';
import * as schemas from './route-schemas.js';
import { ceilingOf, collectionView, matches, scanChanges, versionOf, type Match } from './view.js';
import { principalOf } from '../auth.js';

/** STIX objects are served in this media type (collection `media_types`, manifest entries). */
export const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1';

type Query = Record<string, string | number | undefined>;

const badRequest = (message: string) => new ApiError(400, 'STIXGATE_ERR_API_BAD_REQUEST', message);

function list(v: unknown): string[] | undefined {
  if (typeof v !== 'string') return undefined;
  const items = v
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
  return items.length > 0 ? items : undefined;
}

/** `match[…]` parameters; a bad version timestamp is a 400. */
export function parseMatch(q: Query): Match {
  const m: Match = {};
  const ids = list(q['match[id]']);
  if (ids) m.ids = new Set(ids);
  const types = list(q['match[type]']);
  if (types) m.types = new Set(types);
  const specs = list(q['match[spec_version]']);
  if (specs) m.specVersions = new Set(specs);
  const versions = list(q['match[version]']);
  if (versions) {
    const keywords = new Set<string>();
    const times = new Set<number>();
    for (const v of versions) {
      if (v === 'first' || v === 'last' || v === 'all') keywords.add(v);
      else {
        const us = parseUs(v);
        if (us === undefined)
          throw badRequest(`match[version]: "${v.slice(0, 40)}" is not first, last, all or an RFC 3339 timestamp`);
        times.add(us);
      }
    }
    m.versions = { keywords, times };
  }
  return m;
}

/** The filters a `next` token is bound to, in a canonical form. */
function filterKey(q: Query): string {
  return ['match[id]', 'match[type]', 'match[version]', 'match[spec_version]']
    .map((k) => (typeof q[k] === 'string' ? (list(q[k]) ?? []).sort().join(',') : ''))
    .join('|');
}

/**
 * Sends `body` serialised by the route's response schema, in the TAXII media type exactly as
 * TAXII spells it (as bytes: fastify would rewrite a JSON media type given with a string).
 */
export function send(reply: FastifyReply, body: unknown): FastifyReply {
  // cast: the route's response schema serialises to a string (the typings also allow buffers)
  return reply.header('content-type', TAXII_MEDIA_TYPE).send(Buffer.from(reply.serialize(body) as string));
}

function collectionOf(ctx: TaxiiContext, req: FastifyRequest): Collection {
  const c = ctx.reg.collection(taxiiParam(req, 'root'), taxiiParam(req, 'collection'));
  // the guard answered 404 already for an unknown collection
  if (!c) throw new ApiError(404, 'STIXGATE_ERR_API_NOT_FOUND', 'no such collection');
  return c;
}

function rootOf(ctx: TaxiiContext, req: FastifyRequest): ApiRoot {
  const r = ctx.reg.roots.get(taxiiParam(req, 'root'));
  // the guard answered 404 already for an unknown root
  if (!r) throw new ApiError(404, 'STIXGATE_ERR_API_NOT_FOUND', 'no such API root');
  return r;
}

/** The query string as the route schema validated and coerced it (strings, and `limit` a number). */
function queryOf(req: FastifyRequest): Query {
  const q: unknown = req.query;
  const out: Query = {};
  if (isRecord(q))
    for (const [k, v] of Object.entries(q)) if (typeof v === 'string' || typeof v === 'number') out[k] = v;
  return out;
}

/** `limit`, when given (the schema made it an integer). */
function limitOf(q: Query): number | undefined {
  return typeof q.limit === 'number' ? q.limit : undefined;
}

function resource(c: Collection, req: FastifyRequest) {
  const p = principalOf(req);
  const out: Record<string, unknown> = {
    id: c.id,
    title: c.config.title ?? c.name,
    can_read: canRead(c, p),
    can_write: canWrite(c, p),
    media_types: [STIX_MEDIA_TYPE],
  };
  if (c.config.description !== undefined) out.description = c.config.description;
  return out;
}

/**
 * A page of a collection for `objects` and `manifest`: the change log from `added_after` or the
 * `next` position, through the reader's view, with the date_added headers.
 */
async function page(ctx: TaxiiContext, req: FastifyRequest, reply: FastifyReply, endpoint: 'objects' | 'manifest') {
  const c = collectionOf(ctx, req);
  const q = queryOf(req);
  const p = principalOf(req);
  const limit = limitOf(q) ?? ctx.config.max_page_size;
  if (limit > ctx.config.max_page_size)
    throw badRequest(
      `limit ${limit} is above the largest page this server sends (taxii.max_page_size ${ctx.config.max_page_size})`,
    );
  const m = parseMatch(q);
  const horizon = ctx.clock.advance(await ctx.store.head(), ctx.now());
  let after = 0;
  if (typeof q.added_after === 'string') {
    const us = parseUs(q.added_after);
    if (us === undefined) throw badRequest('added_after is not an RFC 3339 timestamp');
    after = ctx.clock.seqAtOrBefore(us);
  }
  const binding = `${p.keyId ?? '-'}|${c.id}|${endpoint}|${filterKey(q)}`;
  if (typeof q.next === 'string') {
    const state = ctx.signer.verify(q.next, binding);
    if (!state) throw badRequest('next is not a token this server issued for this key, collection and filters');
    after = Math.max(after, state.pos);
  }
  const ceiling = ceilingOf(c.config, p.maxTlp);
  const r = await scanChanges(ctx.store, {
    after,
    horizon,
    limit,
    maxScan: ctx.config.max_scan_per_request,
    pick: (obj, seq) => {
      const view = collectionView(obj, c.config, ceiling, ctx.access);
      return view && matches(view, m, () => ctx.clock.dateUs(seq)) ? view : undefined;
    },
  });
  const firstItem = r.items[0];
  const lastItem = r.items.at(-1);
  if (firstItem && lastItem) {
    reply.header('x-taxii-date-added-first', ctx.clock.date(firstItem.seq));
    reply.header('x-taxii-date-added-last', ctx.clock.date(lastItem.seq));
  }
  ctx.metrics.taxiiServed.inc({ collection: c.name, endpoint }, r.items.length);
  const body: Record<string, unknown> = { more: r.more };
  if (r.more) body.next = ctx.signer.sign({ pos: r.pos }, binding);
  if (r.items.length > 0) {
    body.objects =
      endpoint === 'objects'
        ? r.items.map((i) => i.object)
        : r.items.map((i) => {
            const date = ctx.clock.date(i.seq);
            return {
              id: i.object.id,
              date_added: date,
              version: versionOf(i.object) ?? date,
              media_type: STIX_MEDIA_TYPE,
            };
          });
  }
  return send(reply, body);
}

/**
 * One object in the reader's view of the collection with its `date_added` (the date of its last
 * change, ADR 0017), or a 404 (an invisible object is answered as an unknown one). `added_after`
 * and `match[…]` filter it as they filter a page: an object they leave out is a 404 too.
 */
async function oneObject(
  ctx: TaxiiContext,
  req: FastifyRequest,
): Promise<{ view: StixObject; dateAdded: string | undefined }> {
  const c = collectionOf(ctx, req);
  const q = queryOf(req);
  const limit = limitOf(q);
  if (limit !== undefined && limit > ctx.config.max_page_size)
    throw badRequest(`limit is above taxii.max_page_size ${ctx.config.max_page_size}`);
  const m = parseMatch(q);
  let afterUs: number | undefined;
  if (typeof q.added_after === 'string') {
    afterUs = parseUs(q.added_after);
    if (afterUs === undefined) throw badRequest('added_after is not an RFC 3339 timestamp');
  }
  const stored = await ctx.store.getEntry(taxiiParam(req, 'object'));
  const view =
    stored && collectionView(stored.object, c.config, ceilingOf(c.config, principalOf(req).maxTlp), ctx.access);
  const missing = () => new ApiError(404, 'STIXGATE_ERR_API_NOT_FOUND', 'no such object in this collection');
  if (!stored || !view) throw missing();
  // its change is dated at once when no request dated it yet (a checkpoint only when the head
  // moved); never beyond the store's head (the OpenSearch store's gap-free horizon, ADR 0017)
  if (stored.seq > ctx.clock.lastSeq) ctx.clock.advance(await ctx.store.head(), ctx.now(), true);
  const dated = stored.seq <= ctx.clock.lastSeq;
  // a change beyond the horizon is newer than every dated one: after any added_after, no date yet
  const us = dated ? ctx.clock.dateUs(stored.seq) : Number.POSITIVE_INFINITY;
  if (!matches(view, m, () => us) || (afterUs !== undefined && us <= afterUs)) throw missing();
  return { view, dateAdded: dated ? ctx.clock.date(stored.seq) : undefined };
}

/** The date_added headers of an answer with one version (the store keeps the newest only); none for a change not dated yet. */
function dateAddedHeaders(reply: FastifyReply, date: string | undefined): void {
  if (date !== undefined) reply.header('x-taxii-date-added-first', date).header('x-taxii-date-added-last', date);
}

export function readRoutes(app: FastifyInstance, ctx: TaxiiContext): void {
  const errorHandler = ctx.errorHandler;
  const guard = (a: Parameters<typeof taxiiGuard>[2]) => taxiiGuard(ctx.auth, ctx.reg, a);

  app.get(
    '/taxii2/',
    { schema: schemas.discoverySchema, onRequest: guard('discovery'), errorHandler },
    async (_req, reply) => {
      const base = ctx.config.public_url ?? '';
      const roots = [...ctx.reg.roots.keys()];
      const body: Record<string, unknown> = {
        title: ctx.config.title,
        api_roots: roots.map((r) => `${base}/taxii2/${r}/`),
      };
      if (ctx.config.description !== undefined) body.description = ctx.config.description;
      if (ctx.config.contact !== undefined) body.contact = ctx.config.contact;
      const def = ctx.config.default_api_root ?? roots[0];
      if (def !== undefined) body.default = `${base}/taxii2/${def}/`;
      return send(reply, body);
    },
  );

  app.get(
    '/taxii2/:root/',
    { schema: schemas.apiRootSchema, onRequest: guard('root'), errorHandler },
    async (req, reply) => {
      const r = rootOf(ctx, req);
      const body: Record<string, unknown> = {
        title: r.title,
        versions: [TAXII_MEDIA_TYPE],
        max_content_length: ctx.bodyLimit,
      };
      if (r.description !== undefined) body.description = r.description;
      return send(reply, body);
    },
  );

  app.get(
    '/taxii2/:root/collections/',
    { schema: schemas.collectionsSchema, onRequest: guard('root'), errorHandler },
    async (req, reply) => {
      const r = rootOf(ctx, req);
      const p = principalOf(req);
      const collections = [...r.collections.values()]
        .filter((c) => canRead(c, p) || canWrite(c, p))
        .map((c) => resource(c, req));
      return send(reply, collections.length > 0 ? { collections } : {});
    },
  );

  app.get(
    '/taxii2/:root/collections/:collection/',
    { schema: schemas.collectionSchema, onRequest: guard('collection'), errorHandler },
    async (req, reply) => send(reply, resource(collectionOf(ctx, req), req)),
  );

  app.get(
    '/taxii2/:root/collections/:collection/objects/',
    { schema: schemas.objectsSchema, onRequest: guard('read'), errorHandler },
    (req, reply) => page(ctx, req, reply, 'objects'),
  );

  app.get(
    '/taxii2/:root/collections/:collection/manifest/',
    { schema: schemas.manifestSchema, onRequest: guard('read'), errorHandler },
    (req, reply) => page(ctx, req, reply, 'manifest'),
  );

  app.get(
    '/taxii2/:root/collections/:collection/objects/:object/',
    { schema: schemas.objectSchema, onRequest: guard('read'), errorHandler },
    async (req, reply) => {
      const { view, dateAdded } = await oneObject(ctx, req);
      ctx.metrics.taxiiServed.inc({ collection: collectionOf(ctx, req).name, endpoint: 'object' }, 1);
      dateAddedHeaders(reply, dateAdded);
      return send(reply, { more: false, objects: [view] });
    },
  );

  app.get(
    '/taxii2/:root/collections/:collection/objects/:object/versions/',
    { schema: schemas.versionsSchema, onRequest: guard('read'), errorHandler },
    async (req, reply) => {
      const { view, dateAdded } = await oneObject(ctx, req);
      // a version is the object's modified/created/first_seen, else (none of these) its date_added
      dateAddedHeaders(reply, dateAdded);
      const version = versionOf(view) ?? dateAdded;
      return send(reply, version !== undefined ? { more: false, versions: [version] } : { more: false });
    },
  );
}
