import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, visit, type Document, type Node } from 'yaml';
import { StixgateError } from '../core/errors.js';
import { yamlTooDeep } from '../core/safe-yaml.js';
import { validate, type Issue } from '../core/schema.js';
import { resolveSecrets } from './secrets.js';
import { NETWORK_SECRET_PATH, networkIssues, type NetworkConfig } from '../http/network.js';
import { annotateOverridden, applyEnvOverrides, ENV_OVERRIDE_PREFIX, type EnvOverride } from './env-overrides.js';
import { buildConfigSchema, type StixgateConfig } from './config-schema.js';
import { tlsIssues } from '../store/opensearch/schema.js';
import { checkUrl } from '../http/ssrf.js';
import { validateSchedule } from '../pipeline/scheduler.js';
import type { IntegrationDefinition } from './registry.js';
import { serverIssues, serverWarnings } from '../server/exposure.js';

export interface LoadedConfig {
  config: StixgateConfig;
  path: string;
  dir: string;
  /** Config paths whose values came from secret references or are declared secret. */
  secretPaths: Set<string>;
  warnings: string[];
  /** The STIXGATE__… environment overrides applied, in order. */
  overrides: EnvOverride[];
}

export class ConfigError extends StixgateError {
  readonly issues: Issue[];
  constructor(file: string, issues: Issue[]) {
    super('STIXGATE_ERR_CONFIG_INVALID', `configuration ${file} is invalid:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
    this.issues = issues;
  }
}

const MAX_DEPTH = 32;

/** Parses and validates a configuration text; every problem is reported at once with its path and line. */
export function parseConfig(
  text: string,
  opts: { file: string; registry: readonly IntegrationDefinition[]; env?: Record<string, string | undefined> },
): LoadedConfig {
  const lineCounter = new LineCounter();
  // measured before composing: the yaml library composes recursively and would overflow the stack
  const deep = yamlTooDeep(text, MAX_DEPTH);
  if (deep) throw new ConfigError(opts.file, [{ path: at(linePos(text, deep.offset)), message: `nesting deeper than ${MAX_DEPTH} levels` }]);
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true, version: '1.2', schema: 'core' });
  const issues: Issue[] = [];
  for (const e of doc.errors) issues.push({ path: at(e.linePos?.[0]), message: firstLine(e.message) });
  // unknown tags (`!env X`, `!!js/function`, `!!binary`) are warnings in the yaml library: refuse them
  for (const w of doc.warnings) issues.push({ path: at(w.linePos?.[0]), message: `${firstLine(w.message)} (tags are not supported; use \${ENV} references)` });
  // any explicit tag, even one the core schema knows (`!!binary`, `!!str`), is refused: values are plain YAML
  if (doc.warnings.length === 0) {
    visit(doc, (_key, node) => {
      const tag = (node as { tag?: string } | null)?.tag;
      const range = (node as { range?: [number, number] } | null)?.range;
      if (tag) issues.push({ path: range ? at(lineCounter.linePos(range[0])) : '', message: `explicit tag ${tag} is not supported (use plain values and \${ENV} references)` });
    });
  }
  if (issues.length) throw new ConfigError(opts.file, issues);

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 50 }) ?? {};
  } catch (e) {
    throw new ConfigError(opts.file, [{ path: '', message: (e as Error).message }]);
  }
  if (depth(raw) > MAX_DEPTH) throw new ConfigError(opts.file, [{ path: '', message: `nesting deeper than ${MAX_DEPTH} levels` }]);

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
  if (issues.length) throw new ConfigError(opts.file, withLines(doc, lineCounter, annotateOverridden(issues, overridden.applied)));
  const config = (result as { value: StixgateConfig }).value;

  for (const [id, src] of Object.entries(config.sources)) {
    const def = opts.registry.find((d) => d.type === (src as { type: string }).type);
    for (const p of def?.secretPaths ?? []) secretPaths.add(`sources.${id}.${p}`);
  }
  for (const section of ['sources', 'sinks', 'enrichers'] as const) {
    for (const [id, c] of Object.entries((config as unknown as Record<string, Record<string, NetworkConfig> | undefined>)[section] ?? {})) {
      if (c.proxy?.password !== undefined) secretPaths.add(`${section}.${id}.${NETWORK_SECRET_PATH}`);
    }
  }
  return { config, path: resolve(opts.file), dir, secretPaths, warnings: [...serverWarnings(config.server), ...scheduleWarnings(config)], overrides: overridden.applied };
}

/** Reads, parses and validates a configuration file, and checks its permissions (C6). */
export function loadConfig(file: string, registry: readonly IntegrationDefinition[], env?: Record<string, string | undefined>): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new StixgateError('STIXGATE_ERR_CONFIG_INVALID', `configuration ${file} could not be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const loaded = parseConfig(text, { file, registry, env });
  try {
    const st = statSync(file);
    if (loaded.secretPaths.size > 0 && (st.mode & 0o007) !== 0) {
      loaded.warnings.push(`configuration ${file} holds secrets and is readable by other users (mode ${(st.mode & 0o777).toString(8)}); chmod 600 or 640 it`);
    }
  } catch {
    /* permissions are advisory */
  }
  return loaded;
}

function semanticChecks(config: StixgateConfig, raw: unknown): Issue[] {
  const issues: Issue[] = [];
  issues.push(...serverIssues(config.server, (raw as { server?: unknown } | null)?.server));
  if (config.store.type === 'opensearch') issues.push(...tlsIssues(config.store));
  for (const [id, src] of Object.entries(config.sources)) {
    const c = src as Record<string, any>;
    const path = `sources.${id}`;
    if (c.schedule !== undefined && c.interval_secs !== undefined) issues.push({ path, message: 'set either schedule or interval_secs, not both' });
    if (c.schedule !== undefined || c.interval_secs !== undefined || c.timezone !== undefined) {
      const msg = validateSchedule({ schedule: c.schedule, intervalMs: c.interval_secs !== undefined ? c.interval_secs * 1000 : undefined, timezone: c.timezone, minIntervalMs: config.min_interval_secs * 1000 });
      if (msg) issues.push({ path: `${path}.${c.schedule !== undefined ? 'schedule' : c.interval_secs !== undefined ? 'interval_secs' : 'timezone'}`, message: msg });
    }
    if (typeof c.url === 'string' && !c.url.startsWith('file:') && /^[a-z][a-z0-9+.-]*:/i.test(c.url)) {
      const why = checkUrl(c.url, { allowPrivate: c.allow_private, allowInsecure: c.allow_insecure });
      if (why) issues.push({ path: `${path}.url`, message: `${why} (set allow_private / allow_insecure on this source to permit it)` });
    }
    if (c.retry && c.retry.base_delay_secs > c.retry.max_delay_secs) issues.push({ path: `${path}.retry`, message: 'base_delay_secs must not exceed max_delay_secs' });
  }
  for (const section of ['sources', 'sinks', 'enrichers'] as const) {
    for (const [id, c] of Object.entries((config as unknown as Record<string, Record<string, NetworkConfig> | undefined>)[section] ?? {})) {
      for (const i of networkIssues(c)) issues.push({ path: `${section}.${id}.${i.path}`, message: i.message });
    }
  }
  return issues;
}

function withLines(doc: Document, lc: LineCounter, issues: Issue[]): Issue[] {
  return issues.map((i) => {
    // a value from an environment override has no line in the file
    if (!i.path || /line \d+/.test(i.path) || i.message.includes(ENV_OVERRIDE_PREFIX)) return i;
    const node = nodeAt(doc, i.path, i.message.startsWith('unknown key'));
    if (!node?.range) return i;
    const pos = lc.linePos(node.range[0]);
    return { path: `${i.path} (line ${pos.line}, column ${pos.col})`, message: i.message };
  });
}

function nodeAt(doc: Document, path: string, wantKey = false): Node | undefined {
  const keys = path.split(/\.|\[(\d+)\]/).filter((k) => k !== undefined && k !== '');
  let node: unknown = doc.contents;
  let last: Node | undefined = doc.contents ?? undefined;
  for (const k of keys) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === k);
      if (!pair) return last;
      last = wantKey && k === keys[keys.length - 1] ? (pair.key as Node) : ((pair.value as Node) ?? (pair.key as Node));
      node = pair.value;
    } else if (isSeq(node)) {
      node = node.items[Number(k)];
      if (!node) return last;
      last = node as Node;
    } else return last;
  }
  return last;
}

function linePos(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const nl = before.lastIndexOf('\n');
  return { line: before.split('\n').length, col: offset - nl };
}

function at(pos: { line: number; col: number } | undefined): string {
  return pos ? `line ${pos.line}, column ${pos.col}` : '';
}

function firstLine(s: string): string {
  return s.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

function depth(v: unknown, d = 0): number {
  if (d > MAX_DEPTH) return d;
  if (Array.isArray(v)) return v.reduce((m: number, x) => Math.max(m, depth(x, d + 1)), d + 1);
  if (v && typeof v === 'object') return Object.values(v).reduce((m: number, x) => Math.max(m, depth(x, d + 1)), d + 1);
  return d;
}

/** A copy of the configuration with every secret value replaced, for display and logs. */
export function redactConfig(loaded: LoadedConfig): unknown {
  const walk = (v: unknown, path: string): unknown => {
    if (loaded.secretPaths.has(path)) return '[redacted]';
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, path ? `${path}.${k}` : k)]));
    return v;
  };
  return walk(loaded.config, '');
}

/** Sources whose polling the file leaves implicit: said at every load (validate and daemon start). */
function scheduleWarnings(config: StixgateConfig): string[] {
  const out: string[] = [];
  for (const [id, raw] of Object.entries(config.sources)) {
    const c = raw as { enabled?: boolean; schedule?: string; interval_secs?: number; run_on_start?: boolean };
    if (c.enabled === false || c.schedule !== undefined || c.interval_secs !== undefined) continue;
    out.push(`sources.${id} has neither schedule nor interval_secs: it is polled every 3600 s by default; set one of them to say how often`);
  }
  return out;
}
