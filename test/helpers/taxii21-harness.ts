import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registry as baseRegistry } from '../../integrations/index.js';
import { parseConfig } from '../../src/config/load.js';
import { createSourceComponent, type SourceComponent } from '../../src/pipeline/components.js';
import { runSource, type RunSummary } from '../../src/pipeline/runner.js';
import type { IntegrationDefinition } from '../../src/config/registry.js';
import type { Page } from '../../src/pipeline/types.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/contract.js';
import { MAPPINGS_DIR } from '../../src/paths.js';
import { taxii21Source } from '../../integrations/taxii21/index.js';

/**
 * Test harness for the taxii21 source (unit tests against loopback servers and the medallion
 * integration test): builds the source through the configuration schema, collects its pages, or
 * runs it through the real runner into an embedded store. Not used by the engine.
 */

export const registry: readonly IntegrationDefinition[] = baseRegistry.some((d) => d.type === 'taxii21')
  ? baseRegistry
  : [...baseRegistry, taxii21Source];

export interface Harness {
  comp: SourceComponent;
  /** Log lines written by the source (JSON objects). */
  logs: Record<string, unknown>[];
}

export function makeSource(options: Record<string, unknown>): Harness {
  const loaded = parseConfig(
    JSON.stringify({
      sources: {
        t: {
          type: 'taxii21',
          allow_private: true,
          allow_insecure: true,
          retry: { max_attempts: 1, base_delay_secs: 0.01, max_delay_secs: 0.1 },
          ...options,
        },
      },
    }),
    {
      file: 'test.yaml',
      registry,
    },
  );
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'warn', destination: { write: (s: string) => void logs.push(JSON.parse(s)) } });
  const comp = createSourceComponent('t', loaded.config.sources.t as never, {
    registry,
    logger,
    configDir: process.cwd(),
    mappingsDir: MAPPINGS_DIR,
  });
  return { comp, logs };
}

/** Collects every page of one run. */
export async function collectPages(h: Harness, o: { now: number; cursor?: string; full?: boolean }): Promise<Page[]> {
  const out: Page[] = [];
  const ac = new AbortController();
  for await (const p of h.comp.source.pages({
    id: 't',
    logger: h.comp.logger,
    http: h.comp.http,
    signal: ac.signal,
    now: o.now,
    cursor: o.cursor,
    full: o.full,
  }))
    out.push(p);
  return out;
}

/** A throw-away embedded store; `dispose` closes and deletes it. */
export async function tempStore(): Promise<{ store: Store; dispose: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-taxii-'));
  const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One run through the engine's runner: pages → store, cursors committed with them. */
export function runOnce(h: Harness, store: Store, now: number): Promise<RunSummary> {
  return runSource({
    id: 't',
    source: h.comp.source,
    config: h.comp.config,
    store,
    http: h.comp.http,
    logger: h.comp.logger,
    allowRed: true,
    signal: new AbortController().signal,
    now: () => now,
    batchSize: 1,
  });
}
