import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StixgateError } from '../core/errors.js';
import { parseYaml, readConfigFile } from '../core/yaml-document.js';
import { validate, type Issue } from '../core/schema.js';
import { resolveSecrets } from './secrets.js';
import { NETWORK_SECRET_PATH, networkIssues } from '../http/network.js';
import { annotateOverridden, applyEnvOverrides, ENV_OVERRIDE_PREFIX, type EnvOverride } from './env-overrides.js';
import { buildConfigSchema, type StixgateConfig } from './config-schema.js';
import { tlsIssues } from '../store/opensearch/schema.js';
import { checkUrl } from '../http/ssrf.js';
import { validateSchedule } from '../pipeline/scheduler.js';
import type { IntegrationDefinition } from './registry.js';
import { serverIssues, serverWarnings } from '../server/exposure.js';
import { taxiiIssues } from '../server/taxii/schema.js';
import { first } from '../core/indexed.js';

export interface LoadedConfig {
  config: StixgateConfig;
  path: string;
  dir: string;
  /** Config paths whose values came from secret references or are declared secret. */
  secretPaths: Set<string>;
  warnings: string[];
  /** The STIXGATE__… environment overrides applied, in order. */
  overrides: EnvOverride[];
  /** Adds the file's line and column to issues found after loading (a value set by an environment override has none). */
  locate?: (issues: Issue[]) => Issue[];
}

export class ConfigError extends StixgateError {
  readonly issues: Issue[];
  constructor(file: string, issues: Issue[]) {
    super(
      'STIXGATE_ERR_CONFIG_INVALID',
      `configuration ${file} is invalid:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
    );
    this.issues = issues;
  }
}

const MAX_DEPTH = 32;

/** Parses and validates a configuration text; every problem is reported at once with its path and line. */
export function parseConfig(
  text: string,
  opts: { file: string; registry: readonly IntegrationDefinition[]; env?: Record<string, string | undefined> },
): LoadedConfig {
  const parsed = parseYaml(text, MAX_DEPTH);
  if (!parsed.ok) throw new ConfigError(opts.file, parsed.issues);
  const raw = parsed.parsed.value ?? {};
  const issues: Issue[] = [];

  const dir = dirname(resolve(opts.file));
  const secretPaths = new Set<string>();
  const env = opts.env ?? process.env;
  const overridden = applyEnvOverrides(raw, env, issues, secretPaths);
  const resolved = resolveSecrets(overridden.value, { env, baseDir: dir }, '', issues, secretPaths);
  const schema = buildConfigSchema(opts.registry);
  const result = validate(schema, resolved);
  // a key whose reference or override already failed is reported once, not again as "is required"
  const failed = new Set(issues.map((i) => i.path));
  if (!result.ok) issues.push(...result.issues.filter((i) => !failed.has(i.path)));
  if (result.ok) issues.push(...semanticChecks(result.value, resolved));
  if (!result.ok || issues.length) {
    // a value from an environment override has no line in the file
    const located = annotateOverridden(issues, overridden.applied).map((i) =>
      i.message.includes(ENV_OVERRIDE_PREFIX) ? i : first(parsed.parsed.locate([i])),
    );
    throw new ConfigError(opts.file, located);
  }
  const config = result.value;

  for (const [id, src] of Object.entries(config.sources)) {
    const def = opts.registry.find((d) => d.type === src.type);
    for (const p of def?.secretPaths ?? []) secretPaths.add(`sources.${id}.${p}`);
  }
  if (config.cli.api_key !== undefined) secretPaths.add('cli.api_key');
  for (const section of ['sources', 'sinks', 'enrichers'] as const) {
    for (const [id, c] of Object.entries(config[section])) {
      if (c.proxy?.password !== undefined) secretPaths.add(`${section}.${id}.${NETWORK_SECRET_PATH}`);
    }
  }
  const fromEnv = new Set(overridden.applied.map((o) => o.path));
  const locate = (list: Issue[]): Issue[] =>
    list.map((i) => (fromEnv.has(i.path) ? i : (parsed.parsed.locate([i])[0] ?? i)));
  return {
    config,
    path: resolve(opts.file),
    dir,
    secretPaths,
    warnings: [...serverWarnings(config.server), ...scheduleWarnings(config)],
    overrides: overridden.applied,
    locate,
  };
}

/** Reads, parses and validates a configuration file, and checks its permissions (a file holding secrets must not be readable by others). */
export function loadConfig(
  file: string,
  registry: readonly IntegrationDefinition[],
  env?: Record<string, string | undefined>,
): LoadedConfig {
  const loaded = parseConfig(readConfigFile(file, 'configuration'), { file, registry, env });
  try {
    const st = statSync(file);
    if (loaded.secretPaths.size > 0 && (st.mode & 0o007) !== 0) {
      loaded.warnings.push(
        `configuration ${file} holds secrets and is readable by other users (mode ${(st.mode & 0o777).toString(8)}); chmod 600 or 640 it`,
      );
    }
  } catch {
    /* permissions are advisory */
  }
  return loaded;
}

function semanticChecks(config: StixgateConfig, raw: unknown): Issue[] {
  const issues: Issue[] = [];
  issues.push(...serverIssues(config.server, (raw as { server?: unknown } | null)?.server));
  issues.push(...taxiiIssues(config.taxii, config.server));
  if (config.store.type === 'opensearch') issues.push(...tlsIssues(config.store));
  for (const [id, c] of Object.entries(config.sources)) {
    const path = `sources.${id}`;
    if (c.schedule !== undefined && c.interval_secs !== undefined)
      issues.push({ path, message: 'set either schedule or interval_secs, not both' });
    if (c.schedule !== undefined || c.interval_secs !== undefined || c.timezone !== undefined) {
      const msg = validateSchedule({
        schedule: c.schedule,
        intervalMs: c.interval_secs !== undefined ? c.interval_secs * 1000 : undefined,
        timezone: c.timezone,
        minIntervalMs: config.min_interval_secs * 1000,
      });
      if (msg)
        issues.push({
          path: `${path}.${c.schedule !== undefined ? 'schedule' : c.interval_secs !== undefined ? 'interval_secs' : 'timezone'}`,
          message: msg,
        });
    }
    if (typeof c.url === 'string' && !c.url.startsWith('file:') && /^[a-z][a-z0-9+.-]*:/i.test(c.url)) {
      const why = checkUrl(c.url, { allowPrivate: c.allow_private, allowInsecure: c.allow_insecure });
      if (why)
        issues.push({
          path: `${path}.url`,
          message: `${why} (set allow_private / allow_insecure on this source to permit it)`,
        });
    }
    if (c.retry && c.retry.base_delay_secs > c.retry.max_delay_secs)
      issues.push({ path: `${path}.retry`, message: 'base_delay_secs must not exceed max_delay_secs' });
  }
  for (const section of ['sources', 'sinks', 'enrichers'] as const) {
    for (const [id, c] of Object.entries(config[section])) {
      for (const i of networkIssues(c)) issues.push({ path: `${section}.${id}.${i.path}`, message: i.message });
    }
  }
  return issues;
}

/** A copy of the configuration with every secret value replaced, for display and logs. */
export function redactConfig(loaded: LoadedConfig): unknown {
  const walk = (v: unknown, path: string): unknown => {
    if (loaded.secretPaths.has(path)) return '[redacted]';
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, path ? `${path}.${k}` : k)]));
    return v;
  };
  return walk(loaded.config, '');
}

/** Sources whose polling the file leaves implicit: said at every load (validate and daemon start). */
function scheduleWarnings(config: StixgateConfig): string[] {
  const out: string[] = [];
  for (const [id, c] of Object.entries(config.sources)) {
    if (c.enabled === false || c.schedule !== undefined || c.interval_secs !== undefined) continue;
    out.push(
      `sources.${id} has neither schedule nor interval_secs: it is polled every 3600 s by default; set one of them to say how often`,
    );
  }
  return out;
}
