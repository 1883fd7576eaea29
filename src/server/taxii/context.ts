import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessPolicy } from '../../access/policy.js';
import type { TlpLevel } from '../../core/stix.js';
import type { Allowlist } from '../../filter/ingest-allowlist.js';
import type { Store } from '../../store/contract.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import type { Authenticator } from '../auth.js';
import type { AddedClock } from './clock.js';
import type { CollectionRegistry } from './collections.js';
import type { TaxiiConfig } from './schema.js';
import type { StatusBook } from './status.js';
import type { TokenSigner } from './token.js';

/** What a POST needs to ingest as every source does (the daemon's configuration). */
export interface TaxiiIngest {
  allowRed: boolean;
  /** TLP of a contribution with no marking and no collection `write_tlp` (config `default_tlp`). */
  defaultTlp: TlpLevel;
  allowlist?: Allowlist;
}

/** Everything the TAXII routes share. */
export interface TaxiiContext {
  config: TaxiiConfig;
  reg: CollectionRegistry;
  store: Store;
  auth: Authenticator;
  clock: AddedClock;
  signer: TokenSigner;
  statuses: StatusBook;
  access: AccessPolicy;
  ingest: TaxiiIngest;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
  bodyLimit: number;
  errorHandler: (err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => FastifyReply;
}
