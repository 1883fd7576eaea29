/**
 * The hardened YAML reader shared by the configuration and the mapping tables: YAML 1.2 core
 * schema, duplicate keys refused, no tags, at most 50 aliases, nesting measured before composing,
 * every problem located (YAML path, line and column). `loadYamlTable` adds the schema language:
 * a mapping table a SOC engineer edits fails at load, naming the file, the entry and the line.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, visit, type Document, type Node } from 'yaml';
import { StixgateError, errorMessage } from './errors.js';
import { yamlTooDeep } from './safe-yaml.js';
import { validate, type Issue, type Schema } from './schema.js';
import { first } from './indexed.js';
import { errorCode } from './guards.js';

export const MAX_YAML_DEPTH = 32;

/** Keys of a mapping table: vendor names (`Malicious E-mail`, `FileItem/Md5sum`, `ip-src|port`), one line. */
export const TABLE_KEY = /^[^\n]{1,200}$/;

export interface ParsedYaml {
  value: unknown;
  /** Adds `(line L, column C)` to issues whose YAML path names a node of the document. */
  locate(issues: Issue[]): Issue[];
}

/** Parses a YAML text; syntax problems come back as located issues. */
export function parseYaml(
  text: string,
  maxDepth = MAX_YAML_DEPTH,
): { ok: true; parsed: ParsedYaml } | { ok: false; issues: Issue[] } {
  const lineCounter = new LineCounter();
  // measured before composing: the yaml library composes recursively and would overflow the stack
  const deep = yamlTooDeep(text, maxDepth);
  if (deep)
    return {
      ok: false,
      issues: [{ path: at(linePos(text, deep.offset)), message: `nesting deeper than ${maxDepth} levels` }],
    };
  const doc = parseDocument(text, {
    lineCounter,
    uniqueKeys: true,
    prettyErrors: true,
    version: '1.2',
    schema: 'core',
  });
  const issues: Issue[] = [];
  for (const e of doc.errors) issues.push({ path: at(e.linePos?.[0]), message: firstLine(e.message) });
  // unknown tags (`!env X`, `!!js/function`, `!!binary`) are warnings in the yaml library: refuse them
  for (const w of doc.warnings)
    issues.push({
      path: at(w.linePos?.[0]),
      message: `${firstLine(w.message)} (tags are not supported; use \${ENV} references)`,
    });
  // any explicit tag, even one the core schema knows (`!!binary`, `!!str`), is refused: values are plain YAML
  if (doc.warnings.length === 0) {
    visit(doc, (_key, node) => {
      const tag = (node as { tag?: string } | null)?.tag;
      const range = (node as { range?: [number, number] } | null)?.range;
      if (tag)
        issues.push({
          path: range ? at(lineCounter.linePos(range[0])) : '',
          message: `explicit tag ${tag} is not supported (use plain values and \${ENV} references)`,
        });
    });
  }
  if (issues.length) return { ok: false, issues };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 50 });
  } catch (e) {
    return { ok: false, issues: [{ path: '', message: errorMessage(e) }] };
  }
  if (depth(value, maxDepth) > maxDepth)
    return { ok: false, issues: [{ path: '', message: `nesting deeper than ${maxDepth} levels` }] };
  return { ok: true, parsed: { value, locate: (list) => withLines(doc, lineCounter, list) } };
}

/** The message of a mapping table's issues: one line each, `path (line L, column C): message`. */
export function describeIssues(issues: readonly Issue[]): string {
  return issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n');
}

export interface TableOptions<T> {
  /** What the file is, for messages (`MISP attribute table`). */
  what: string;
  /** Checks the schema cannot express (a pattern path that must parse, a key needed by a handler). */
  check?: (value: T) => Issue[];
  /** Largest file accepted (default 4 MiB). */
  maxBytes?: number;
}

/**
 * Reads a mapping table: the hardened parse, the schema, then `check`. Every problem is reported
 * at once; throws STIXGATE_ERR_CONFIG_INVALID naming the file, each YAML path and its line.
 */
export function loadYamlTable<T>(
  file: string,
  schema: Schema<T> | ((raw: unknown) => Schema<T>),
  opts: TableOptions<T>,
): T {
  return parseYamlTable(readConfigFile(file, opts.what), file, schema, opts);
}

/** A configuration or mapping file's text; STIXGATE_ERR_CONFIG_INVALID naming `what`, the file and the system's code when it cannot be read. */
export function readConfigFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new StixgateError('STIXGATE_ERR_CONFIG_INVALID', `cannot read ${what} ${file}: ${errorCode(e) ?? 'error'}`, {
      location: { file },
    });
  }
}

/** `loadYamlTable` for a text already read. */
export function parseYamlTable<T>(
  text: string,
  file: string,
  schema: Schema<T> | ((raw: unknown) => Schema<T>),
  opts: TableOptions<T>,
): T {
  const fail = (issues: Issue[]): never => {
    throw new StixgateError(
      'STIXGATE_ERR_CONFIG_INVALID',
      `${opts.what} ${file} is invalid:\n${describeIssues(issues)}`,
      { location: { file } },
    );
  };
  if (Buffer.byteLength(text) > (opts.maxBytes ?? 4 * 1024 * 1024))
    fail([{ path: '', message: `larger than ${opts.maxBytes ?? 4 * 1024 * 1024} bytes` }]);
  const r = parseYaml(text);
  if (!r.ok) return fail(r.issues);
  const raw = r.parsed.value ?? {};
  const v = validate(typeof schema === 'function' ? schema(raw) : schema, raw);
  if (!v.ok) return fail(r.parsed.locate(v.issues));
  const more = opts.check?.(v.value) ?? [];
  if (more.length) return fail(r.parsed.locate(more));
  return v.value;
}

function withLines(doc: Document, lc: LineCounter, issues: Issue[]): Issue[] {
  return issues.map((i) => {
    if (!i.path || /line \d+/.test(i.path)) return i;
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
  return first(s.split('\n')).replace(/ at line \d+, column \d+:?$/, '');
}

function depth(v: unknown, max: number, d = 0): number {
  if (d > max) return d;
  if (Array.isArray(v)) return v.reduce((m: number, x) => Math.max(m, depth(x, max, d + 1)), d + 1);
  if (v && typeof v === 'object')
    return Object.values(v).reduce((m: number, x) => Math.max(m, depth(x, max, d + 1)), d + 1);
  return d;
}
