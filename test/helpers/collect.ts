import { resolve } from 'node:path';
import { registry } from '../../integrations/index.js';
import { parseConfig } from '../../src/config/load.js';
import { createSourceComponent } from '../../src/pipeline/components.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { MAPPINGS_DIR } from '../../src/paths.js';
import type { StixObject } from '../../src/core/stix.js';
import type { Rejection } from '../../src/core/errors.js';

/** A fixed clock for tests: 2026-03-01T12:00:00Z. */
export const FIXED_NOW = Date.UTC(2026, 2, 1, 12, 0, 0);

/**
 * Runs one source type over a file through the same path as `stixgate convert` (config schema,
 * defaults, registry) and collects everything it emits.
 */
export async function collectSource(
  type: string,
  file: string,
  options: Record<string, unknown> = {},
  now = FIXED_NOW,
): Promise<{ objects: StixObject[]; rejections: Rejection[]; received: number; cursor?: string }> {
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(file) ? file : `file://${resolve(file)}`;
  const loaded = parseConfig(JSON.stringify({ sources: { t: { type, url, ...options } } }), {
    file: 'test.yaml',
    registry,
  });
  const comp = createSourceComponent('t', loaded.config.sources.t as never, {
    registry,
    logger: silentLogger(),
    configDir: process.cwd(),
    mappingsDir: MAPPINGS_DIR,
  });
  const out = {
    objects: [] as StixObject[],
    rejections: [] as Rejection[],
    received: 0,
    cursor: undefined as string | undefined,
  };
  const ac = new AbortController();
  for await (const page of comp.source.pages({
    id: 't',
    logger: comp.logger,
    http: comp.http,
    signal: ac.signal,
    now,
  })) {
    for (const it of page.items) out.objects.push(it.object);
    out.rejections.push(...page.rejections);
    out.received += page.received;
    if (page.cursor !== undefined) out.cursor = page.cursor;
  }
  return out;
}
