import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { AccessPolicy } from '../../access/policy.js';
import type { CorrelationIndex } from '../../correlate/index.js';
import type { CursorSealer } from '../../search/cursor.js';
import type { Store } from '../../store/contract.js';
import type { Metrics } from '../../telemetry/metrics.js';
import type { AdminControl } from '../admin-types.js';
import type { Authenticator } from '../auth.js';
import type { ConsoleConfig } from '../schema.js';
import type { ConsoleGuard } from './guard.js';
import type { ConsoleSessions } from './session.js';

export interface ConsoleRoutesOptions {
  config: ConsoleConfig;
  auth: Authenticator;
  store: Store;
  metrics: Metrics;
  access?: AccessPolicy;
  cursors: CursorSealer;
  /** The sources and sinks pages need the admin control (a daemon); without it they say so. */
  admin?: AdminControl;
  correlator?: CorrelationIndex;
  /** The configured sinks' ids (the delivery ledger answers one entry per sink). */
  sinks: () => readonly string[];
  now: () => number;
}

/** The params of a route on one component (`/console/sinks/:id/…`). */
export const ID_PARAMS = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', maxLength: 128 } },
} as const;
/** The body of a console form: its CSRF token (checked by the guard's `csrf()`). */
export const CSRF_FORM = { type: 'object', properties: { csrf: { type: 'string', maxLength: 100 } } } as const;

/** A route of the console: its path, methods and onRequest hook, for the 405 answers. */
export interface ConsoleRoute {
  url: string;
  methods: string[];
  onRequest: onRequestHookHandler[];
}

/** Shared by the console's route modules. */
export interface ConsoleKit extends ConsoleRoutesOptions {
  guard: ConsoleGuard;
  sessions: ConsoleSessions;
  policy: AccessPolicy;
  /** Sends a whole page (HTML) for a request admitted by the guard. */
  render(req: FastifyRequest, reply: FastifyReply, title: string, body: string, status?: number): FastifyReply;
  /** Records a route for its 405 answers. */
  route(r: ConsoleRoute): void;
}
