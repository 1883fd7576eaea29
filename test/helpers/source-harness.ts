/** Test support shared by the source tests: config → component → its pages, or runs against a store. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registry } from '../../integrations/index.js';
import { parseConfig } from '../../src/config/load.js';
import { createSourceComponent, type SourceComponent } from '../../src/pipeline/components.js';
import { runSource, cursorName, type RunOptions, type RunSummary } from '../../src/pipeline/runner.js';
import type { Page, SourceRunContext } from '../../src/pipeline/types.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/contract.js';
import type { IntegrationDefinition } from '../../src/config/registry.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { MAPPINGS_DIR } from '../../src/paths.js';
import { must } from './must.js';

/** The project registry plus definitions not (yet) registered in it. */
export function withDefinitions(defs: IntegrationDefinition[]): IntegrationDefinition[] {
  const types = new Set(defs.map((d) => d.type));
  return [...registry.filter((d) => !types.has(d.type)), ...defs];
}

/** The whole configuration holding source `id` with `options`, as the schema reads it (defaults applied, secrets resolved). */
export function parsedConfig(
  id: string,
  options: Record<string, unknown>,
  o: { registry?: IntegrationDefinition[]; env?: Record<string, string>; file?: string } = {},
) {
  const loaded = parseConfig(JSON.stringify({ sources: { [id]: options } }), {
    file: o.file ?? 'test.yaml',
    registry: o.registry ?? registry,
    env: o.env ?? {},
  });
  return loaded.config;
}

/**
 * A source component `id` built from `options` through the configuration schema (defaults, secrets,
 * validation) with `o.registry` (default the project registry), relative paths from `o.configDir`
 * (default the working folder).
 */
export function sourceComponent(
  id: string,
  options: Record<string, unknown>,
  o: { registry?: IntegrationDefinition[]; env?: Record<string, string>; file?: string; configDir?: string } = {},
): SourceComponent {
  return createSourceComponent(id, must(parsedConfig(id, options, o).sources[id], `source ${id}`) as never, {
    registry: o.registry ?? registry,
    logger: silentLogger(),
    configDir: o.configDir ?? process.cwd(),
    mappingsDir: MAPPINGS_DIR,
  });
}

/** A source component `t` with `defs` added to the registry, loopback allowed and quick retries. */
export function component(
  defs: IntegrationDefinition[],
  options: Record<string, unknown>,
  env: Record<string, string> = {},
): SourceComponent {
  return sourceComponent(
    't',
    {
      allow_private: true,
      allow_insecure: true,
      retry: { max_attempts: 3, base_delay_secs: 0.01, max_delay_secs: 0.1 },
      ...options,
    },
    { registry: withDefinitions(defs), env },
  );
}

/** The pages of one run of the component's source at `now` (`extra`: a cursor, a full fetch). */
export function componentPages(
  comp: SourceComponent,
  now: number,
  extra: Pick<SourceRunContext, 'cursor' | 'full'> = {},
): AsyncIterable<Page> {
  return comp.source.pages({
    id: comp.id,
    logger: comp.logger,
    http: comp.http,
    signal: new AbortController().signal,
    now,
    ...extra,
  });
}

/** One run of the source runner for the component into `store` at `now`; `over` sets further runner options. */
export function runComponent(
  comp: SourceComponent,
  store: Store,
  now: number,
  over: Partial<RunOptions> = {},
): Promise<RunSummary> {
  return runSource({
    id: comp.id,
    source: comp.source,
    config: comp.config,
    store,
    http: comp.http,
    logger: comp.logger,
    allowRed: false,
    signal: new AbortController().signal,
    now: () => now,
    ...over,
  });
}

/** What a promise settled to: its value, or the error it was rejected with. */
export function settled<T>(
  p: Promise<T>,
): Promise<{ value: T; error: undefined } | { value: undefined; error: unknown }> {
  return p.then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  );
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
    run: (now, opts = {}) => runComponent(comp, store, now, { maxPages: opts.maxPages }),
    cursor: () => store.getCursor(cursorName('t')),
    async close() {
      await comp.http.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
