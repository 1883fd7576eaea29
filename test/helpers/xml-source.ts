/**
 * Test support: runs the `stix1` / `openioc` sources over a file or directory through the engine's
 * own path (config schema with defaults, component creation, the one registry).
 */
import { resolve } from 'node:path';
import { registry } from '../../integrations/index.js';
import { parseConfig } from '../../src/config/load.js';
import { createSourceComponent } from '../../src/pipeline/components.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { MAPPINGS_DIR } from '../../src/paths.js';
import type { StixObject } from '../../src/core/stix.js';
import type { Rejection } from '../../src/core/errors.js';

export const FIXED_NOW = Date.UTC(2026, 2, 1, 12, 0, 0);

export interface Collected {
  objects: StixObject[];
  rejections: Rejection[];
  received: number;
  pages: number;
  cursor?: string;
}

export async function collectXmlSource(
  type: 'stix1' | 'openioc',
  file: string,
  options: Record<string, unknown> = {},
  cursor?: string,
  now = FIXED_NOW,
): Promise<Collected> {
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(file) ? file : `file://${resolve(file)}${file.endsWith('/') ? '/' : ''}`;
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
  const out: Collected = { objects: [], rejections: [], received: 0, pages: 0 };
  const ac = new AbortController();
  for await (const page of comp.source.pages({
    id: 't',
    logger: comp.logger,
    http: comp.http,
    signal: ac.signal,
    now,
    cursor,
  })) {
    out.pages++;
    for (const it of page.items) out.objects.push(it.object);
    out.rejections.push(...page.rejections);
    out.received += page.received;
    if (page.cursor !== undefined) out.cursor = page.cursor;
  }
  return out;
}
