import { errorMessage } from '../core/errors.js';
import { parse as parseYaml } from 'yaml';
import type { Issue } from '../core/schema.js';
import { last } from '../core/indexed.js';

/**
 * Environment overrides: `STIXGATE__<KEY>__<KEY>…=<value>` sets the configuration key at that path
 * (segments lower-cased, `__` between them), e.g. `STIXGATE__SERVER__PORT=9090`,
 * `STIXGATE__SOURCES__FEODO__ENABLED=false`. The value is read as YAML, so numbers and booleans
 * keep their types and a map or list replaces the whole key
 * (`STIXGATE__STORE='{type: opensearch, node: "https://os:9200"}'`). Overrides apply after the file
 * is read and before `${…}` references resolve and the schema validates, so they are checked like
 * the file. Keys are addressed in lower case: a component id with capitals cannot be overridden.
 */
export const ENV_OVERRIDE_PREFIX = 'STIXGATE__';

export interface EnvOverride {
  variable: string;
  path: string;
}

const SECRET_KEY = /password|token|secret|api_key|credential/;

export function applyEnvOverrides(
  raw: unknown,
  env: Record<string, string | undefined>,
  issues: Issue[],
  secretPaths: Set<string>,
): { value: unknown; applied: EnvOverride[] } {
  const applied: EnvOverride[] = [];
  const root = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  for (const variable of Object.keys(env)
    .filter((k) => k.startsWith(ENV_OVERRIDE_PREFIX))
    .sort()) {
    const text = env[variable];
    if (text === undefined) continue;
    const segments = variable
      .slice(ENV_OVERRIDE_PREFIX.length)
      .split('__')
      .map((s) => s.toLowerCase());
    if (segments.some((s) => !/^[a-z0-9_-]+$/.test(s))) {
      issues.push({
        path: `(environment ${variable})`,
        message:
          'an override names a key path as STIXGATE__KEY__SUBKEY (letters, digits, _ and -; segments separated by __)',
      });
      continue;
    }
    const path = segments.join('.');
    let value: unknown;
    try {
      value = parseYaml(text, { version: '1.2', schema: 'core', uniqueKeys: true });
    } catch (e) {
      issues.push({
        path,
        message: `the value of ${variable} is not valid YAML (${errorMessage(e).split('\n')[0]})`,
      });
      continue;
    }
    let node = root;
    let ok = true;
    for (const [i, seg] of segments.slice(0, -1).entries()) {
      const next = Object.hasOwn(node, seg) ? node[seg] : undefined;
      if (next === undefined || next === null) {
        const created: Record<string, unknown> = {};
        Object.defineProperty(node, seg, { value: created, enumerable: true, writable: true, configurable: true });
        node = created;
      } else if (typeof next === 'object' && !Array.isArray(next)) node = next as Record<string, unknown>;
      else {
        issues.push({
          path,
          message: `${variable} cannot be applied: ${segments.slice(0, i + 1).join('.')} is not a map`,
        });
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    const key = last(segments);
    Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
    if (SECRET_KEY.test(key)) secretPaths.add(path);
    applied.push({ variable, path });
  }
  if (applied.length === 0) return { value: raw, applied };
  return { value: root, applied };
}

/** Names the override behind an issue whose path is at or under an overridden key. */
export function annotateOverridden(issues: Issue[], applied: EnvOverride[]): Issue[] {
  return issues.map((i) => {
    const o = applied.find(
      (a) => i.path === a.path || i.path.startsWith(`${a.path}.`) || i.path.startsWith(`${a.path}[`),
    );
    return o ? { ...i, message: `${i.message} (value from ${o.variable})` } : i;
  });
}
