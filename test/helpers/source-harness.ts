/** Test support shared by the abuse.ch and OTX tests: config → component → runs against a store. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registry } from '../../integrations/index.js';
import { parseConfig } from '../../src/config/load.js';
import { createSourceComponent, type SourceComponent } from '../../src/pipeline/components.js';
import { runSource, cursorName, type RunSummary } from '../../src/pipeline/runner.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/contract.js';
import type { IntegrationDefinition } from '../../src/config/registry.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { MAPPINGS_DIR } from '../../src/paths.js';

/** The project registry plus definitions not (yet) registered in it. */
export function withDefinitions(defs: IntegrationDefinition[]): IntegrationDefinition[] {
  const types = new Set(defs.map((d) => d.type));
  return [...registry.filter((d) => !types.has(d.type)), ...defs];
}

/** A source component built through the configuration schema (defaults, secrets, validation). */
export function component(
  defs: IntegrationDefinition[],
  options: Record<string, unknown>,
  env: Record<string, string> = {},
): SourceComponent {
  const reg = withDefinitions(defs);
  const loaded = parseConfig(
    JSON.stringify({
      sources: {
        t: {
          allow_private: true,
          allow_insecure: true,
          retry: { max_attempts: 3, base_delay_secs: 0.01, max_delay_secs: 0.1 },
          ...options,
        },
      },
    }),
    { file: 'test.yaml', registry: reg, env },
  );
  return createSourceComponent('t', loaded.config.sources.t as never, {
    registry: reg,
    logger: silentLogger(),
    configDir: process.cwd(),
    mappingsDir: MAPPINGS_DIR,
  });
}

export interface Harness {
  store: Store;
  comp: SourceComponent;
  run(now: number, opts?: { maxPages?: number }): Promise<RunSummary>;
  cursor(): Promise<string | undefined>;
  close(): Promise<void>;
}

export async function harness(comp: SourceComponent): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-src-'));
  const store = await openEmbeddedStore({ dataDir: dir });
  return {
    store,
    comp,
    run: (now, opts = {}) =>
      runSource({
        id: 't',
        source: comp.source,
        config: comp.config,
        store,
        http: comp.http,
        logger: comp.logger,
        allowRed: false,
        signal: new AbortController().signal,
        now: () => now,
        maxPages: opts.maxPages,
      }),
    cursor: () => store.getCursor(cursorName('t')),
    async close() {
      await comp.http.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
