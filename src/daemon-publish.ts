import { resolve } from 'node:path';
import type { Logger } from './telemetry/logger.js';
import type { LoadedConfig } from './config/load.js';
import { createPublishFilter } from './filter/setup.js';
import type { PublishFilter } from './filter/policy.js';
import { createHttpClient } from './http/client.js';

/** Warninglist paths resolve from the configuration file's directory. */
export function resolvedWarninglists(loaded: LoadedConfig) {
  const wl = loaded.config.warninglists;
  return { ...wl, paths: wl.paths.map((p) => resolve(loaded.dir, p)) };
}

/** The client that downloads warninglists (public lists only: no private addresses, TLS verified). */
export function warninglistHttp(logger: Logger) {
  return createHttpClient(
    {
      headersTimeoutMs: 30_000,
      bodyTimeoutMs: 60_000,
      totalTimeoutMs: 120_000,
      maxBytes: 64 * 1024 * 1024,
      maxRedirects: 3,
      allowPrivate: false,
      allowInsecure: false,
      verifyTls: true,
      retry: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 },
    },
    { component: 'warninglists', logger },
  );
}

/** The publish filter of a configuration: its warninglists, its publish and ingest allowlists and its trusted sources. */
export async function buildPublishFilter(loaded: LoadedConfig, logger: Logger): Promise<PublishFilter> {
  const config = loaded.config;
  const trusted = Object.entries(config.sources)
    .filter(([, c]) => (c as { enabled: boolean; trusted: boolean }).enabled && (c as { trusted: boolean }).trusted)
    .map(([id]) => id);
  const http = warninglistHttp(logger);
  try {
    const { filter, problems } = await createPublishFilter(
      {
        warninglists: resolvedWarninglists(loaded),
        publish_allowlist: config.publish_allowlist,
        allowlist: config.allowlist,
      },
      trusted,
      http,
    );
    for (const p of problems) logger.warn({ list: p.origin, path: p.path }, p.message);
    logger.info({ lists: filter.lists?.size ?? 0 }, 'warninglists loaded');
    return filter;
  } finally {
    await http.close();
  }
}
