import { resolve } from 'node:path';
import type { Issue } from '../core/schema.js';
import { silentLogger } from '../telemetry/logger.js';
import { createSourceComponent } from '../pipeline/components.js';
import { closeSinkComponent, createSinkComponent } from '../delivery/component.js';
import type { IntegrationDefinition } from './registry.js';
import { ConfigError, loadConfig, type LoadedConfig } from './load.js';

/**
 * What the schema cannot see: every enabled source and sink is instantiated as the daemon would
 * (column maps and other mapping files read and validated, CA and certificate files loaded), and
 * each failure is reported against its component's path. Nothing is contacted.
 */
export async function componentIssues(loaded: LoadedConfig, registry: readonly IntegrationDefinition[], mappingsDir: string, dataDir?: string): Promise<Issue[]> {
  const issues: Issue[] = [];
  const ctx = { registry, logger: silentLogger(), configDir: loaded.dir, mappingsDir };
  for (const [id, raw] of Object.entries(loaded.config.sources)) {
    const c = raw as Parameters<typeof createSourceComponent>[1];
    if (!c.enabled) continue;
    try {
      await createSourceComponent(id, c, ctx).http.close();
    } catch (e) {
      issues.push({ path: `sources.${id}`, message: (e as Error).message });
    }
  }
  for (const [id, raw] of Object.entries(loaded.config.sinks)) {
    const c = raw as Parameters<typeof createSinkComponent>[1];
    if (!c.enabled) continue;
    try {
      await closeSinkComponent(createSinkComponent(id, c, { ...ctx, dataDir: resolve(dataDir ?? loaded.config.data_dir) }));
    } catch (e) {
      issues.push({ path: `sinks.${id}`, message: (e as Error).message });
    }
  }
  return issues;
}

/** The configuration file, validated, with every component buildable: what the daemon starts and reloads with. */
export async function loadCheckedConfig(path: string, registry: readonly IntegrationDefinition[], mappingsDir: string, dataDir?: string): Promise<LoadedConfig> {
  const loaded = loadConfig(path, registry);
  const issues = await componentIssues(loaded, registry, mappingsDir, dataDir);
  if (issues.length) throw new ConfigError(loaded.path, issues);
  return loaded;
}
