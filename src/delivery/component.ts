import { join, resolve } from 'node:path';
import Bottleneck from 'bottleneck';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Store } from '../store/contract.js';
import { createHttpClient, type ClosableHttpClient } from '../http/client.js';
import { findDefinition, singleAttemptPolicy } from '../pipeline/components.js';
import { DeadLetterFile } from './dead-letter.js';
import { loadSinkMapping, type SinkMapping } from './records.js';
import type { AccessPolicy } from '../access/policy.js';
import { runSink, type SinkRunSummary } from './runner.js';
import type { PublishCheck } from './select.js';
import type { CommonSinkConfig, Sink, SinkDefinition } from './types.js';
import type { RegistryEntry } from '../pipeline/types.js';

/** One configured sink: its client, limiter, mapping table and dead-letter file, shared by its runs. */
export interface SinkComponent {
  id: string;
  def: SinkDefinition;
  config: CommonSinkConfig & Record<string, unknown>;
  sink: Sink;
  http: ClosableHttpClient;
  limiter: Bottleneck;
  mapping: SinkMapping;
  deadLetter: DeadLetterFile;
  logger: Logger;
}

export function createSinkComponent(
  id: string,
  config: CommonSinkConfig & Record<string, unknown>,
  o: { registry: readonly RegistryEntry[]; logger: Logger; configDir: string; mappingsDir: string; dataDir: string },
): SinkComponent {
  const def = findDefinition<SinkDefinition>(o.registry, 'sink', config.type);
  if (!def) throw new Error(`unknown sink type ${config.type}`);
  const logger = o.logger.child({ sink: id, type: config.type });
  // the sink runner owns retries (whole batches, per-item outcomes, Retry-After): one attempt here
  const http = createHttpClient(
    singleAttemptPolicy(config, o.configDir, { maxBytes: 64 * 1024 * 1024, maxRedirects: 0 }),
    { component: `sink:${id}`, logger },
  );
  const sink = def.create(config, { logger, configDir: o.configDir, mappingsDir: o.mappingsDir });
  const concurrency = Math.max(1, Math.min(def.limits.concurrency, config.concurrency ?? def.limits.concurrency));
  const perMinute = config.rate_limit?.max_per_minute;
  const limiter = new Bottleneck({
    maxConcurrent: concurrency,
    minTime: perMinute ? Math.ceil(60_000 / perMinute) : 0,
  });
  const mappingPath = config.mapping
    ? resolve(o.configDir, config.mapping)
    : join(o.mappingsDir, 'sinks', `${config.type}.yaml`);
  const mapping = loadSinkMapping(mappingPath, def.mappingSections);
  const deadLetter = new DeadLetterFile(join(o.dataDir, 'dead-letter', `${id}.jsonl`));
  return { id, def, config, sink, http, limiter, mapping, deadLetter, logger };
}

/** What a push or a reconcile of a sink component reads from its caller: the store, clock, signal and filters. */
export interface SinkRunInputs {
  store: Store;
  metrics?: Metrics;
  signal: AbortSignal;
  now: () => number;
  publish?: PublishCheck;
  access?: AccessPolicy;
}

export function runSinkComponent(
  c: SinkComponent,
  o: SinkRunInputs & { full?: boolean; dryRun?: boolean; publishVersion?: string },
): Promise<SinkRunSummary> {
  return runSink({ ...componentParts(c), ...o });
}

/** What a push or a reconcile takes from a sink component: the sink, its client, limiter, mapping table and dead letters. */
export function componentParts(c: SinkComponent) {
  return {
    id: c.id,
    sink: c.sink,
    config: c.config,
    http: c.http,
    logger: c.logger,
    mapping: c.mapping.fields,
    deadLetter: c.deadLetter,
    limiter: c.limiter,
  };
}

export async function closeSinkComponent(c: SinkComponent): Promise<void> {
  await c.limiter.stop({ dropWaitingJobs: true }).catch(() => undefined);
  await c.http.close().catch(() => undefined);
}
