import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AccessPolicy } from '../../access/policy.js';
import { DEFAULT_POLICY } from '../../access/policy.js';
import type { Store } from '../../store/contract.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import type { Authenticator } from '../auth.js';
import { errorLabel } from '../errors.js';
import { AddedClock } from './clock.js';
import { CollectionRegistry } from './collections.js';
import type { TaxiiContext, TaxiiIngest } from './context.js';
import { taxiiErrorHandler } from './media.js';
import { readRoutes } from './read.js';
import type { TaxiiConfig } from './schema.js';
import { StatusBook } from './status.js';
import { loadTokenKey, TokenSigner } from './token.js';
import { writeRoutes } from './write.js';

export { taxiiSchema, taxiiIssues, type TaxiiConfig } from './schema.js';
export type { TaxiiIngest } from './context.js';

/** How the daemon serves TAXII: the configuration, where its state lives, and how POSTs ingest. */
export interface TaxiiServerOptions {
  config: TaxiiConfig;
  /** Holds `taxii/date-added.bin` and `taxii/token.key` (memory only without it: tests). */
  dataDir?: string;
  ingest: TaxiiIngest;
}

export interface TaxiiRouteOptions extends TaxiiServerOptions {
  store: Store;
  auth: Authenticator;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
  bodyLimit: number;
  access?: AccessPolicy;
}

/**
 * The TAXII 2.1 server (docs/taxii.md) under /taxii2/. Routes are registered on the server itself
 * (not in an encapsulated plugin) so that the engine's hooks, 405 handling and limits apply as to
 * every route; each route carries the TAXII error handler. Returns a function that releases the
 * date-added file.
 */
export function taxiiRoutes(app: FastifyInstance, o: TaxiiRouteOptions): () => void {
  const dir = o.dataDir !== undefined ? join(o.dataDir, 'taxii') : undefined;
  const clock = new AddedClock(dir && join(dir, 'date-added.bin'));
  const ctx: TaxiiContext = {
    config: o.config,
    reg: new CollectionRegistry(o.config),
    store: o.store,
    auth: o.auth,
    clock,
    signer: new TokenSigner(loadTokenKey(dir && join(dir, 'token.key'))),
    statuses: new StatusBook(o.config.status_retention),
    access: o.access ?? DEFAULT_POLICY,
    ingest: o.ingest,
    metrics: o.metrics,
    logger: o.logger,
    now: o.now,
    bodyLimit: o.bodyLimit,
    errorHandler: taxiiErrorHandler((code) => o.metrics.apiRefused.inc({ code: errorLabel(code) })),
  };
  // TAXII bodies are JSON in the TAXII media type, parsed as JSON bodies are (no __proto__ or constructor.prototype)
  app.addContentTypeParser('application/taxii+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
  readRoutes(app, ctx);
  writeRoutes(app, ctx);
  return () => clock.close();
}
