/**
 * A small declarative schema language for the YAML configuration. One schema value both
 * validates (every problem reported at once, with its YAML path) and documents itself
 * (`describeSchema` renders the configuration reference).
 *
 * Unknown keys are errors, with a "did you mean" hint. YAML 1.1 idioms such as `no`/`on` for
 * booleans are rejected with a hint rather than coerced.
 */
import { at } from './indexed.js';

export interface Issue {
  path: string;
  message: string;
}

interface Base<T> {
  readonly kind: string;
  readonly description?: string;
  readonly defaultValue?: T;
  readonly optional: boolean;
  readonly secret?: boolean;
  /** Validates and returns the value with defaults applied. Problems are pushed to `issues`. */
  parse(value: unknown, path: string, issues: Issue[]): T | undefined;
}

export type Schema<T = unknown> = Base<T>;
export type Infer<S> = S extends Schema<infer T> ? T : never;

/** The default of a schema declared with one (a schema without a default is a programming error). */
export function defaultOf<T>(schema: Schema<T>): T {
  if (schema.defaultValue === undefined) throw new Error(`the ${schema.kind} schema has no default`);
  return schema.defaultValue;
}

interface Common<T> {
  description?: string;
  default?: T;
  optional?: boolean;
  /** The value is a secret: it may come from `${ENV}`/`${file:…}` and is never logged. */
  secret?: boolean;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function make<T>(
  kind: string,
  c: Common<T>,
  check: (v: unknown, path: string, issues: Issue[]) => T | undefined,
): Schema<T> {
  return {
    kind,
    description: c.description,
    defaultValue: c.default,
    optional: c.optional ?? c.default !== undefined,
    secret: c.secret,
    parse(value, path, issues) {
      if (value === undefined || value === null) {
        if (c.default !== undefined) return structuredClone(c.default);
        if (!(c.optional ?? false)) issues.push({ path, message: 'is required' });
        return undefined;
      }
      return check(value, path, issues);
    },
  };
}

const YAML11_BOOLS = new Set(['yes', 'no', 'on', 'off', 'y', 'n', 'true', 'false']);

export const s = {
  string(
    c: Common<string> & {
      pattern?: RegExp;
      patternHint?: string;
      minLength?: number;
      maxLength?: number;
      enum?: readonly string[];
    } = {},
  ): Schema<string> {
    const kind = c.enum ? `one of ${c.enum.join(', ')}` : 'string';
    return make(kind, c, (v, path, issues) => {
      if (typeof v !== 'string') {
        if (typeof v === 'number' && !c.enum) {
          issues.push({ path, message: `must be a string, got ${typeName(v)} (quote it in YAML, e.g. "${v}")` });
        } else issues.push({ path, message: `must be ${c.enum ? kind : 'a string'}, got ${typeName(v)}` });
        return undefined;
      }
      if (c.enum && !c.enum.includes(v)) {
        const hint = closest(v, c.enum);
        issues.push({
          path,
          message: `must be one of ${c.enum.join(', ')}, got "${v}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
        });
        return undefined;
      }
      if (c.minLength !== undefined && v.length < c.minLength)
        issues.push({ path, message: `must be at least ${c.minLength} characters` });
      if (c.maxLength !== undefined && v.length > c.maxLength)
        issues.push({ path, message: `must be at most ${c.maxLength} characters` });
      if (c.pattern && !c.pattern.test(v)) issues.push({ path, message: c.patternHint ?? `must match ${c.pattern}` });
      return v;
    });
  },
  enum<const E extends string>(values: readonly E[], c: Common<E> = {}): Schema<E> {
    return s.string({ ...c, enum: values }) as Schema<E>;
  },
  number(c: Common<number> & { min?: number; max?: number; integer?: boolean } = {}): Schema<number> {
    return make(c.integer ? 'integer' : 'number', c, (v, path, issues) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        issues.push({ path, message: `must be ${c.integer ? 'an integer' : 'a number'}, got ${typeName(v)}` });
        return undefined;
      }
      if (c.integer && !Number.isInteger(v)) issues.push({ path, message: `must be an integer, got ${v}` });
      if (c.min !== undefined && v < c.min) issues.push({ path, message: `must be >= ${c.min}, got ${v}` });
      if (c.max !== undefined && v > c.max) issues.push({ path, message: `must be <= ${c.max}, got ${v}` });
      return v;
    });
  },
  int(c: Common<number> & { min?: number; max?: number } = {}): Schema<number> {
    return s.number({ ...c, integer: true });
  },
  bool(c: Common<boolean> = {}): Schema<boolean> {
    return make('boolean', c, (v, path, issues) => {
      if (typeof v !== 'boolean') {
        const hint =
          typeof v === 'string' && YAML11_BOOLS.has(v.toLowerCase())
            ? ` (write true or false; "${v}" is a string in YAML 1.2)`
            : '';
        issues.push({ path, message: `must be true or false, got ${typeName(v)}${hint}` });
        return undefined;
      }
      return v;
    });
  },
  array<T>(item: Schema<T>, c: Common<T[]> & { minItems?: number; maxItems?: number } = {}): Schema<T[]> {
    return make(`list of ${item.kind}`, c, (v, path, issues) => {
      if (!Array.isArray(v)) {
        issues.push({ path, message: `must be a list, got ${typeName(v)}` });
        return undefined;
      }
      if (c.minItems !== undefined && v.length < c.minItems)
        issues.push({ path, message: `must have at least ${c.minItems} item(s)` });
      if (c.maxItems !== undefined && v.length > c.maxItems)
        issues.push({ path, message: `must have at most ${c.maxItems} items` });
      return v.map((x, i) => item.parse(x, `${path}[${i}]`, issues) as T);
    });
  },
  /** A mapping with fixed keys; unknown keys are errors. */
  object<P extends Record<string, Schema<unknown>>>(
    props: P,
    c: Common<{ [K in keyof P]: Infer<P[K]> }> = {},
  ): ObjectSchema<P> {
    type Out = { [K in keyof P]: Infer<P[K]> };
    const schema = make<Out>('mapping', c, (v, path, issues) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        issues.push({ path, message: `must be a mapping, got ${typeName(v)}` });
        return undefined;
      }
      const out: Record<string, unknown> = Object.create(null);
      const known = Object.keys(props);
      for (const key of Object.keys(v)) {
        if (!Object.hasOwn(props, key)) {
          const hint = closest(key, known);
          issues.push({ path: join(path, key), message: `unknown key${hint ? ` (did you mean "${hint}"?)` : ''}` });
        }
      }
      for (const [key, prop] of Object.entries(props)) {
        const r = prop.parse((v as Record<string, unknown>)[key], join(path, key), issues);
        if (r !== undefined) out[key] = r;
      }
      // every key of `props` was parsed by its own schema above (issues reported otherwise)
      return { ...out } as Out;
    });
    return Object.assign(schema, { props });
  },
  /** A mapping from user-chosen ids to values (e.g. `sources:`). */
  record<T>(value: Schema<T>, c: Common<Record<string, T>> & { keyPattern?: RegExp } = {}): Schema<Record<string, T>> {
    const keyPattern = c.keyPattern ?? /^[a-z0-9][a-z0-9_-]{0,63}$/;
    const schema = make(`mapping of id → ${value.kind}`, c, (v, path, issues) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        issues.push({ path, message: `must be a mapping, got ${typeName(v)}` });
        return undefined;
      }
      const out: Record<string, T> = {};
      for (const [key, item] of Object.entries(v)) {
        if (!keyPattern.test(key))
          issues.push({
            path: join(path, key),
            message: `id must match ${keyPattern} (lower case letters, digits, _ and -)`,
          });
        const r = value.parse(item, join(path, key), issues);
        if (r !== undefined)
          Object.defineProperty(out, key, { value: r, enumerable: true, writable: true, configurable: true });
      }
      return out;
    });
    (schema as { valueSchema?: Schema<T> }).valueSchema = value;
    return schema;
  },
  /** Any JSON-like value, validated later by the component that owns it (e.g. an integration's own schema). */
  any(c: Common<unknown> = {}): Schema<unknown> {
    return make('any', c, (v) => v);
  },
  /** A mapping validated by a schema picked from its `type:` key. */
  tagged<T = unknown>(
    pick: (type: string) => Schema<T> | undefined,
    types: () => string[],
    c: Common<T> = {},
  ): Schema<T> {
    return make<T>('mapping with type', c, (v, path, issues) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        issues.push({ path, message: `must be a mapping, got ${typeName(v)}` });
        return undefined;
      }
      const t = (v as { type?: unknown }).type;
      if (typeof t !== 'string') {
        issues.push({ path: join(path, 'type'), message: `is required: one of ${types().join(', ')}` });
        return undefined;
      }
      const schema = pick(t);
      if (!schema) {
        const hint = closest(t, types());
        issues.push({
          path: join(path, 'type'),
          message: `unknown type "${t}"${hint ? ` (did you mean "${hint}"?)` : ''}; known: ${types().join(', ')}`,
        });
        return undefined;
      }
      return schema.parse(v, path, issues);
    });
  },
};

export type ObjectSchema<P extends Record<string, Schema<unknown>>> = Schema<{ [K in keyof P]: Infer<P[K]> }> & {
  readonly props: P;
};

export function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** The closest candidate by edit distance, when it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Infinity;
  const prev = new Array(b.length + 1).fill(0).map((_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = at(prev, 0);
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = at(prev, j);
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      // a transposition counts as one edit
      prev[j] = Math.min(tmp + 1, at(prev, j - 1) + 1, diag + cost);
      diag = tmp;
    }
  }
  return at(prev, b.length);
}

/** Parses `value` against `schema`; returns the value or the full list of issues. */
export function validate<T>(
  schema: Schema<T>,
  value: unknown,
  path = '',
): { ok: true; value: T } | { ok: false; issues: Issue[] } {
  const issues: Issue[] = [];
  const out = schema.parse(value, path, issues);
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: out as T };
}

/** Renders a schema as a Markdown table (used for the configuration reference). */
export function describeSchema(schema: Schema<unknown>, path = ''): string[] {
  const rows: string[] = [];
  const props = 'props' in schema && isSchemaRecord(schema.props) ? schema.props : undefined;
  if (props) {
    for (const [key, child] of Object.entries(props)) {
      const p = join(path, key);
      const def =
        child.defaultValue !== undefined
          ? `\`${JSON.stringify(child.defaultValue)}\``
          : child.optional
            ? ''
            : 'required';
      rows.push(`| \`${p}\` | ${child.kind}${child.secret ? ' (secret)' : ''} | ${def} | ${child.description ?? ''} |`);
      rows.push(...describeSchema(child, p));
    }
  }
  const valueSchema = 'valueSchema' in schema && isSchema(schema.valueSchema) ? schema.valueSchema : undefined;
  if (valueSchema) rows.push(...describeSchema(valueSchema, `${path}.<id>`));
  return rows;
}

function isSchema(v: unknown): v is Schema<unknown> {
  return typeof v === 'object' && v !== null && 'parse' in v && typeof v.parse === 'function' && 'kind' in v;
}

function isSchemaRecord(v: unknown): v is Record<string, Schema<unknown>> {
  return typeof v === 'object' && v !== null && Object.values(v).every(isSchema);
}
