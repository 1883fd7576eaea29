/**
 * The lookup API as the benchmarks serve it: anonymous lookups, no rate limit (one generator
 * address far above any per-address limit), silent logs, the run's clock, listening on 127.0.0.1.
 */
import type { FastifyInstance } from 'fastify';
import type { LookupIndex } from '../src/lookup/index.js';
import type { Store } from '../src/store/contract.js';
import type { Correlator } from '../src/correlate/index.js';
import { buildServer } from '../src/server/index.js';
import { serverSchema } from '../src/server/schema.js';
import { validate } from '../src/core/schema.js';
import { Metrics } from '../src/telemetry/metrics.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { NOW } from './ingest-kit.js';

export async function startLookupServer(o: {
  index: LookupIndex;
  store: Store;
  /** Server settings beside the defaults above (e.g. max_batch_size). */
  server?: Record<string, unknown>;
  /** Default process metrics too (the soak scrapes them). */
  defaultMetrics?: boolean;
  correlator?: Correlator;
}): Promise<{ app: FastifyInstance; base: string }> {
  const cfg = validate(serverSchema, { port: 0, anonymous_lookup: true, rate_limit: { enabled: false }, ...o.server });
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.issues));
  const app = buildServer({
    config: cfg.value,
    index: o.index,
    store: o.store,
    metrics: new Metrics({ defaults: o.defaultMetrics ?? false }),
    logger: silentLogger(),
    isReady: () => true,
    now: () => NOW,
    correlator: o.correlator,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, base: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` };
}
