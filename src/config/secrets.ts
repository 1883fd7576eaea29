import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Issue } from '../core/schema.js';
import { errorCode } from '../core/guards.js';

/**
 * Secret references in configuration strings: `${NAME}` or `${env:NAME}` (environment variable) and
 * `${file:/path}` (file contents, trailing newline removed). Any other `${scheme:…}` (`${vault:…}`,
 * `${ENV:…}`) is an error naming the supported forms, never literal text that looks valid.
 * `${{…}}`, `{{…}}` and `$NAME` are not references and stay literal.
 */
const REF = /\$\{(?:file:([^}\n]{1,4096})|(?:env:)?([A-Za-z_][A-Za-z0-9_]{0,127}))\}/g;
const OTHER_SCHEME = /\$\{([A-Za-z][A-Za-z0-9_-]{0,31}):[^}\n]*\}/;

export interface SecretContext {
  env: Record<string, string | undefined>;
  baseDir: string;
}

/** Resolves references inside every string of `value`; problems are reported with their path. */
export function resolveSecrets(
  value: unknown,
  ctx: SecretContext,
  path: string,
  issues: Issue[],
  resolved: Set<string>,
): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    const other = OTHER_SCHEME.exec(value);
    if (other && other[1] !== 'file' && other[1] !== 'env') {
      issues.push({
        path,
        message: `unsupported reference \${${other[1]}:…}: use \${NAME} or \${env:NAME} (environment variable) or \${file:/path}`,
      });
      return undefined;
    }
    let failed = false;
    const out = value.replace(REF, (_m, file: string | undefined, name: string | undefined) => {
      if (file !== undefined) {
        const p = isAbsolute(file) ? file : resolve(ctx.baseDir, file);
        try {
          resolved.add(path);
          return readFileSync(p, 'utf8').replace(/\r?\n$/, '');
        } catch (e) {
          failed = true;
          issues.push({
            path,
            message: `secret file ${p} could not be read (${errorCode(e) ?? 'error'})`,
          });
          return '';
        }
      }
      // the pattern names a file or a variable: no file, so a variable
      const v = name === undefined ? undefined : ctx.env[name];
      if (v === undefined || v === '') {
        failed = true;
        issues.push({ path, message: `environment variable ${name} is not set` });
        return '';
      }
      resolved.add(path);
      return v;
    });
    return failed ? undefined : out;
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveSecrets(v, ctx, `${path}[${i}]`, issues, resolved));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, {
        value: resolveSecrets(v, ctx, path ? `${path}.${k}` : k, issues, resolved),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}
