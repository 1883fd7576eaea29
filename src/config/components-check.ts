import { resolve } from 'node:path';
import type { Issue } from '../core/schema.js';
import { isStixgateError, errorMessage } from '../core/errors.js';
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
export async function componentIssues(
  loaded: LoadedConfig,
  registry: readonly IntegrationDefinition[],
  mappingsDir: string,
  dataDir?: string,
): Promise<Issue[]> {
  const issues: Issue[] = [];
  const fail = (section: string, id: string, config: object, e: unknown): void => {
    issues.push({ path: `${section}.${id}${keyOf(config, e)}`, message: errorMessage(e) });
  };
  const ctx = { registry, logger: silentLogger(), configDir: loaded.dir, mappingsDir };
  for (const [id, c] of Object.entries(loaded.config.sources)) {
    if (!c.enabled) continue;
    try {
      await createSourceComponent(id, c, ctx).http.close();
    } catch (e) {
      fail('sources', id, c, e);
    }
  }
  for (const [id, c] of Object.entries(loaded.config.sinks)) {
    if (!c.enabled) continue;
    try {
      await closeSinkComponent(
        createSinkComponent(id, c, { ...ctx, dataDir: resolve(dataDir ?? loaded.config.data_dir) }),
      );
    } catch (e) {
      fail('sinks', id, c, e);
    }
  }
  return loaded.locate ? loaded.locate(issues) : issues;
}

/**
 * The key of a component's entry that a build failure is about, as `.key`, so the issue carries
 * that key's line: the error's reason when it names a key (`ca_file`), else the one key whose
 * text value the message quotes (a `mapping` name inside the table's path). Empty when neither
 * applies; the issue then points at the component.
 */
function keyOf(config: object, e: unknown): string {
  const entries = Object.entries(config).filter(([k]) => k !== 'type' && k !== 'enabled');
  const reason = isStixgateError(e) ? e.reason : undefined;
  if (reason && entries.some(([k]) => k === reason)) return `.${reason}`;
  const message = errorMessage(e);
  const quoted = entries.filter(([, v]) => typeof v === 'string' && v.length >= 2 && message.includes(v));
  const [only, ...more] = quoted;
  return only && more.length === 0 ? `.${only[0]}` : '';
}

/** The configuration file, validated, with every component buildable: what the daemon starts and reloads with. */
export async function loadCheckedConfig(
  path: string,
  registry: readonly IntegrationDefinition[],
  mappingsDir: string,
  dataDir?: string,
): Promise<LoadedConfig> {
  const loaded = loadConfig(path, registry);
  const issues = await componentIssues(loaded, registry, mappingsDir, dataDir);
  if (issues.length) throw new ConfigError(loaded.path, issues);
  return loaded;
}
