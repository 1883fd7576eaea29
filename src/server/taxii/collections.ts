import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import { uuidv5, STIXGATE_NAMESPACE } from '../../core/ids.js';
import type { Authenticator, Principal } from '../auth.js';
import { ApiError } from '../errors.js';
import { taxiiParams } from './params.js';
import { acceptsTaxii, isTaxiiContentType, notAcceptable, unsupportedMediaType } from './media.js';
import type { CollectionConfig, TaxiiConfig } from './schema.js';

/** One configured collection, resolved: where it lives, its id, its settings. */
export interface Collection {
  root: string;
  name: string;
  id: string;
  config: CollectionConfig;
}

/** A configured API root. */
export interface ApiRoot {
  title: string;
  description?: string;
  collections: Map<string, Collection>;
}

/** The configured API roots and collections, by URL segment and by id. */
export class CollectionRegistry {
  readonly roots = new Map<string, ApiRoot>();

  constructor(t: TaxiiConfig) {
    for (const [root, r] of Object.entries(t.api_roots)) {
      const collections = new Map<string, Collection>();
      for (const [name, c] of Object.entries(r.collections)) {
        const id = c.id ?? uuidv5(STIXGATE_NAMESPACE, `taxii-collection:${root}/${name}`);
        collections.set(id, { root, name, id, config: c });
      }
      this.roots.set(root, { title: r.title ?? root, description: r.description, collections });
    }
  }

  collection(root: string, id: string): Collection | undefined {
    return this.roots.get(root)?.collections.get(id);
  }
}

const listed = (keys: readonly string[], p: Principal) =>
  p.keyId !== null && (keys.includes('*') || keys.includes(p.keyId));

export function canRead(c: Collection, p: Principal): boolean {
  return p.keyId === null ? c.config.anonymous_read : listed(c.config.read_keys, p);
}

export function canWrite(c: Collection, p: Principal): boolean {
  return listed(c.config.write_keys, p);
}

/** Which TAXII resource a route serves: the rights it needs follow from it. */
export type Access = 'discovery' | 'root' | 'collection' | 'read' | 'write' | 'status';

/**
 * The onRequest hook of a TAXII route (it runs before the body is read, so an unauthenticated upload is refused unread): the caller
 * (a key with the `taxii` scope, or the anonymous reader where a collection admits it while
 * `anonymous_lookup` is on), then the API root and collection, then the caller's right on it,
 * then the media types (406, 415). Each refusal is the engine's JSON error decision, answered
 * as a TAXII error.
 */
export function taxiiGuard(
  auth: Authenticator,
  reg: CollectionRegistry,
  access: Access,
): onRequestHookHandler & { scope: 'taxii' } {
  const anonymousAnywhere = [...reg.roots.values()].some((r) =>
    [...r.collections.values()].some((c) => c.config.anonymous_read),
  );
  // tagged with its scope, as Authenticator.require tags its hooks (the API description reads it)
  return Object.assign(
    (req: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
      const params = taxiiParams(req);
      const root = params.root !== undefined ? reg.roots.get(params.root) : undefined;
      const collection =
        params.collection !== undefined && params.root !== undefined
          ? reg.collection(params.root, params.collection)
          : undefined;
      let anonymous = false;
      if (access === 'discovery') anonymous = anonymousAnywhere;
      else if (access === 'root')
        anonymous = root !== undefined && [...root.collections.values()].some((c) => c.config.anonymous_read);
      else if (access === 'read' || access === 'collection') anonymous = collection?.config.anonymous_read === true;
      const { principal, error } = auth.admit(req, 'taxii', anonymous);
      req.principal = principal;
      if (error) return done(error);
      if (principal === null)
        return done(new ApiError(500, 'STIXGATE_ERR_API_INTERNAL', 'no caller was admitted and no error given'));
      const p = principal;
      if (params.root !== undefined && !root)
        return done(new ApiError(404, 'STIXGATE_ERR_API_NOT_FOUND', 'no such API root'));
      if (params.collection !== undefined) {
        if (!collection || !(canRead(collection, p) || canWrite(collection, p)))
          return done(new ApiError(404, 'STIXGATE_ERR_API_NOT_FOUND', 'no such collection'));
        if (access === 'read' && !canRead(collection, p))
          return done(new ApiError(403, 'STIXGATE_ERR_API_FORBIDDEN', 'this API key may not read this collection'));
        if (access === 'write' && !canWrite(collection, p))
          return done(new ApiError(403, 'STIXGATE_ERR_API_FORBIDDEN', 'this API key may not write to this collection'));
      }
      if (!acceptsTaxii(req.headers.accept)) return done(notAcceptable());
      if (access === 'write' && !isTaxiiContentType(req.headers['content-type'])) return done(unsupportedMediaType());
      done();
    },
    { scope: 'taxii' as const },
  );
}
