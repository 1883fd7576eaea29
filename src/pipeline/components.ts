import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { createHttpClient, type ClosableHttpClient } from '../http/client.js';
import { createRateLimit } from '../http/rate-limit.js';
import { networkPolicy, type NetworkConfig } from '../http/network.js';
import type { CommonSourceConfig, RegistryEntry, Source, SourceDefinition } from './types.js';
import type { HttpPolicy } from '../http/types.js';
import { probeInput } from './input.js';
import { isRecord } from '../core/guards.js';

export interface SourceComponent {
  id: string;
  def: SourceDefinition;
  config: CommonSourceConfig & Record<string, unknown>;
  source: Source;
  http: ClosableHttpClient;
  logger: Logger;
}

export function httpPolicyFor(c: CommonSourceConfig, configDir: string): HttpPolicy {
  return {
    headersTimeoutMs: Math.min(30_000, c.timeout_secs * 1000),
    bodyTimeoutMs: Math.min(60_000, c.timeout_secs * 1000),
    totalTimeoutMs: c.timeout_secs * 1000,
    maxBytes: c.max_feed_bytes,
    maxRedirects: 5,
    allowPrivate: c.allow_private,
    allowInsecure: c.allow_insecure,
    ...networkPolicy(c, configDir),
    retry: {
      maxAttempts: c.retry.max_attempts,
      baseDelayMs: c.retry.base_delay_secs * 1000,
      maxDelayMs: c.retry.max_delay_secs * 1000,
      maxRetryAfterMs: 120_000,
    },
  };
}

/**
 * The HTTP policy of a client whose runner owns retries (sinks, enrichers): one attempt per
 * request, one deadline for headers, body and the whole exchange.
 */
export function singleAttemptPolicy(
  c: NetworkConfig & { timeout_secs: number; allow_private: boolean; allow_insecure: boolean },
  configDir: string,
  limits: { maxBytes: number; maxRedirects: number },
): HttpPolicy {
  const ms = c.timeout_secs * 1000;
  return {
    headersTimeoutMs: ms,
    bodyTimeoutMs: ms,
    totalTimeoutMs: ms,
    ...limits,
    allowPrivate: c.allow_private,
    allowInsecure: c.allow_insecure,
    ...networkPolicy(c, configDir),
    retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 },
  };
}

/** The registry entry of one kind and type id (`kind` narrows the result to that kind's definition). */
export function findDefinition<D extends RegistryEntry>(
  registry: readonly RegistryEntry[],
  kind: D['kind'],
  type: string,
): D | undefined {
  return registry.find((d): d is D => d.kind === kind && d.type === type);
}

/** Instantiates one configured source with its own logger and HTTP client. */
export function createSourceComponent(
  id: string,
  config: CommonSourceConfig & Record<string, unknown>,
  o: { registry: readonly RegistryEntry[]; logger: Logger; metrics?: Metrics; configDir: string; mappingsDir: string },
): SourceComponent {
  const def = findDefinition<SourceDefinition>(o.registry, 'source', config.type);
  if (!def) throw new Error(`unknown source type ${config.type}`);
  const logger = o.logger.child({ source: id, type: config.type });
  const http = createHttpClient(httpPolicyFor(config, o.configDir), {
    component: id,
    logger,
    onRetry: (reason: string) => o.metrics?.httpRetries.inc({ component: id, reason }),
  });
  const source = def.create(config, { logger, configDir: o.configDir, mappingsDir: o.mappingsDir });
  // a document source (one URL: text lists, CSV, bundles, KEV, XML) is probed by reaching its URL
  const url = isRecord(config) ? config.url : undefined;
  if (!source.probe && typeof url === 'string') {
    source.probe = (ctx) =>
      probeInput(url, { http: ctx.http, signal: ctx.signal, maxBytes: config.max_feed_bytes, name: id });
  }
  // every source accepts `rate_limit`; integrations that declare their own key apply it themselves
  const limit = isRecord(config) && isRecord(config.rate_limit) ? config.rate_limit.max_per_minute : undefined;
  if (typeof limit === 'number' && def.schema.rate_limit === undefined) {
    const limited = createRateLimit(limit).http(http);
    return { id, def, config, source, http: { request: limited.request, close: () => http.close() }, logger };
  }
  return { id, def, config, source, http, logger };
}
