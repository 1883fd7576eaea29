/**
 * STIX 2.1 patterns: building them from observables, parsing (pattern-parser.ts), a canonical
 * re-serialisation (so formatting variants of one pattern share one indicator id) and extraction
 * of the indexable observables a pattern matches.
 */
import type { HashAlgorithm, Observable, ObservableType } from './stix.js';
import type {
  ComparisonExpression,
  Literal,
  ObjectPath,
  ObservationExpression,
  ObservationOperator,
  PatternNode,
  Qualifier,
} from './pattern-ast.js';
import { parsePatternAst, PATTERN_KEYWORDS } from './pattern-parser.js';
import { detectObservable, normaliseHash, normaliseObservable, type NormaliseResult } from './observable.js';

export type {
  PatternNode,
  ObservationExpression,
  ComparisonExpression,
  Literal,
  ObjectPath,
  PathStep,
  Qualifier,
  ComparisonOperator,
  ObservationOperator,
  ComparisonJoin,
} from './pattern-ast.js';
export { MAX_PATTERN_LENGTH, MAX_PATTERN_DEPTH } from './pattern-parser.js';

/** Escapes a value for a pattern string literal: `\` → `\\`, `'` → `\'`. */
export function escapePatternString(v: string): string {
  if (v.indexOf('\\') < 0 && v.indexOf("'") < 0) return v;
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    out += c === '\\' ? '\\\\' : c === "'" ? "\\'" : c;
  }
  return out;
}

/** How a hash key is written in a canonical pattern: bare when it is an identifier, else quoted. */
const HASH_KEY: Record<HashAlgorithm, string> = {
  MD5: 'MD5',
  'SHA-1': "'SHA-1'",
  'SHA-256': "'SHA-256'",
  'SHA-512': "'SHA-512'",
};

/**
 * The pattern for one canonical observable, already in canonical form
 * (`canonicalPattern(patternFor(o)) === patternFor(o)`).
 */
export function patternFor(o: Observable): string {
  const v = escapePatternString(o.value);
  switch (o.type) {
    case 'file':
    case 'x509-certificate':
      if (!o.hash) throw new TypeError(`patternFor: a ${o.type} observable needs its hash algorithm`);
      return `[${o.type}:hashes.${HASH_KEY[o.hash]} = '${v}']`;
    default:
      return `[${o.type}:value = '${v}']`;
  }
}

/** Parses a STIX 2.1 pattern into its AST; throws StixgateError STIXGATE_ERR_PATTERN_INVALID with the column. */
export function parsePattern(pattern: string): PatternNode {
  return parsePatternAst(pattern);
}

// ---------------------------------------------------------------------------------------------
// canonical serialisation

const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function keyText(name: string): string {
  return IDENT_RE.test(name) && !PATTERN_KEYWORDS.has(name) ? name : `'${escapePatternString(name)}'`;
}

function pathText(p: ObjectPath): string {
  let out = `${p.objectType}:`;
  for (const [i, s] of p.steps.entries()) {
    if (s.kind === 'key') out += (i === 0 ? '' : '.') + keyText(s.name);
    else out += `[${s.index}]`;
  }
  return out;
}

function literalText(l: Literal): string {
  switch (l.kind) {
    case 'string':
      return `'${escapePatternString(l.value)}'`;
    case 'int':
    case 'float':
      return l.text;
    case 'bool':
      return l.value ? 'true' : 'false';
    case 'hex':
      return `h'${l.value}'`;
    case 'binary':
      return `b'${l.value}'`;
    case 'timestamp':
      return `t'${l.value}'`;
  }
}

function comparisonText(c: ComparisonExpression, parentOp: string | undefined): string {
  switch (c.kind) {
    case 'exists':
      return `${c.negated ? 'NOT ' : ''}EXISTS ${pathText(c.path)}`;
    case 'comparison': {
      const v = Array.isArray(c.value) ? `(${c.value.map(literalText).join(', ')})` : literalText(c.value);
      return `${pathText(c.path)} ${c.negated ? 'NOT ' : ''}${c.operator} ${v}`;
    }
    case 'comparison-op': {
      const inner = c.operands.map((o) => comparisonText(o, c.op)).join(` ${c.op} `);
      // AND binds tighter than OR: an OR inside an AND (or any same-operator nesting) keeps its parentheses
      return parentOp !== undefined && (parentOp === c.op || parentOp === 'AND') ? `(${inner})` : inner;
    }
  }
}

const OBS_PRECEDENCE: Record<ObservationOperator, number> = { FOLLOWEDBY: 1, OR: 2, AND: 3 };

function qualifierText(q: Qualifier): string {
  switch (q.kind) {
    case 'within':
      return ` WITHIN ${q.seconds} SECONDS`;
    case 'repeats':
      return ` REPEATS ${q.times} TIMES`;
    case 'start-stop':
      return ` START t'${q.start}' STOP t'${q.stop}'`;
  }
}

function observationText(e: ObservationExpression, parentOp: ObservationOperator | undefined): string {
  const quals = e.qualifiers.length === 0 ? '' : e.qualifiers.map(qualifierText).join('');
  if (e.kind === 'observation') return `[${comparisonText(e.comparison, undefined)}]${quals}`;
  const inner = e.operands.map((o) => observationText(o, e.op)).join(` ${e.op} `);
  const needParens = quals !== '' || (parentOp !== undefined && OBS_PRECEDENCE[e.op] <= OBS_PRECEDENCE[parentOp]);
  return needParens ? `(${inner})${quals}` : inner;
}

/** Serialises a pattern AST in canonical form. */
export function patternText(node: PatternNode): string {
  return observationText(node, undefined);
}

/**
 * The pattern re-serialised from its AST: single spaces, upper-case keywords, `=`/`!=` for
 * `==`/`<>`, no redundant parentheses, bare property names where the grammar allows them,
 * lower-case hex literals, no `+` signs. Formatting variants of one pattern map to one string.
 */
export function canonicalPattern(pattern: string): string {
  return isSimpleCanonical(pattern) ? pattern : patternText(parsePatternAst(pattern));
}

/** The prefixes `patternFor` writes; a pattern `<prefix>'<escaped string>']` is already canonical. */
const SIMPLE_PREFIXES = [
  '[ipv4-addr:value = ',
  '[ipv6-addr:value = ',
  '[domain-name:value = ',
  '[url:value = ',
  '[email-addr:value = ',
  ...['file', 'x509-certificate'].flatMap((t) => Object.values(HASH_KEY).map((k) => `[${t}:hashes.${k} = `)),
];

/**
 * Fast path for the hot ingest loop: true when the pattern is exactly one canonical single-value
 * comparison as patternFor writes it (so parsing and re-serialising would return it unchanged).
 */
function isSimpleCanonical(p: string): boolean {
  if (p.charCodeAt(0) !== 91 || p.charCodeAt(p.length - 1) !== 93 || p.charCodeAt(p.length - 2) !== 39) return false;
  let prefixLen = 0;
  for (const pre of SIMPLE_PREFIXES) {
    if (p.startsWith(pre)) {
      prefixLen = pre.length;
      break;
    }
  }
  if (prefixLen === 0 || p.charCodeAt(prefixLen) !== 39) return false;
  const end = p.length - 2; // the closing quote
  if (end <= prefixLen) return false;
  for (let i = prefixLen + 1; i < end; i++) {
    const c = p.charCodeAt(i);
    if (c === 39) return false;
    if (c === 92) {
      const e = p.charCodeAt(i + 1);
      if ((e !== 39 && e !== 92) || i + 1 >= end) return false;
      i++;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// observable extraction

function hashAlgorithmOf(name: string): HashAlgorithm | undefined {
  switch (name.toUpperCase().replace('-', '')) {
    case 'MD5':
      return 'MD5';
    case 'SHA1':
      return 'SHA-1';
    case 'SHA256':
      return 'SHA-256';
    case 'SHA512':
      return 'SHA-512';
    default:
      return undefined;
  }
}

type Extractor = (value: string, asSubset: boolean) => NormaliseResult | undefined;

function byType(type: ObservableType): Extractor {
  return (v) => normaliseObservable(type, v);
}
const ipOnly: Extractor = (v, asSubset) => {
  if (asSubset) return undefined;
  const r = detectObservable(v);
  return r.ok &&
    (r.observable.type === 'ipv4-addr' || r.observable.type === 'ipv6-addr' || r.observable.type === 'domain-name')
    ? r
    : undefined;
};

/** `objectType:key` (single-key paths) → how its string values become observables. */
const VALUE_PATHS: Record<string, Extractor> = {
  'ipv4-addr:value': byType('ipv4-addr'),
  'ipv6-addr:value': byType('ipv6-addr'),
  'domain-name:value': (v, sub) => (sub ? undefined : normaliseObservable('domain-name', v)),
  'url:value': (v, sub) => (sub ? undefined : normaliseObservable('url', v)),
  'email-addr:value': (v, sub) => (sub ? undefined : normaliseObservable('email-addr', v)),
  'email-message:from_ref.value': (v, sub) => (sub ? undefined : normaliseObservable('email-addr', v)),
  'email-message:sender_ref.value': (v, sub) => (sub ? undefined : normaliseObservable('email-addr', v)),
  'network-traffic:dst_ref.value': ipOnly,
  'network-traffic:src_ref.value': ipOnly,
};
const HASH_TYPES: Record<string, 'file' | 'x509-certificate'> = {
  file: 'file',
  artifact: 'file',
  'x509-certificate': 'x509-certificate',
};

function extractorFor(path: ObjectPath): Extractor | undefined {
  const [s0, s1] = path.steps;
  if (path.steps.length === 2 && s0?.kind === 'key' && s1?.kind === 'key') {
    if (s0.name === 'hashes') {
      const type = HASH_TYPES[path.objectType];
      const alg = hashAlgorithmOf(s1.name);
      if (type === undefined || alg === undefined) return undefined;
      return (v, sub) => (sub ? undefined : normaliseHash(type, v, alg));
    }
    return VALUE_PATHS[`${path.objectType}:${s0.name}.${s1.name}`];
  }
  if (path.steps.length === 1 && s0?.kind === 'key') return VALUE_PATHS[`${path.objectType}:${s0.name}`];
  return undefined;
}

function collect(c: ComparisonExpression, out: Map<string, Observable>): void {
  if (c.kind === 'comparison-op') {
    for (const o of c.operands) collect(o, out);
    return;
  }
  if (c.kind !== 'comparison' || c.negated) return;
  if (c.operator !== '=' && c.operator !== 'IN' && c.operator !== 'ISSUBSET') return;
  const extract = extractorFor(c.path);
  if (!extract) return;
  const values = Array.isArray(c.value) ? c.value : [c.value];
  if (c.operator === 'IN' && !Array.isArray(c.value)) return;
  for (const lit of values) {
    if (lit.kind !== 'string') continue;
    const r = extract(lit.value, c.operator === 'ISSUBSET');
    if (!r?.ok) continue;
    const o = r.observable;
    const key = `${o.type}|${o.hash ?? ''}|${o.value}`;
    if (!out.has(key)) out.set(key, o);
  }
}

function walk(e: ObservationExpression, out: Map<string, Observable>): void {
  if (e.kind === 'observation') collect(e.comparison, out);
  else for (const o of e.operands) walk(o, out);
}

/**
 * Canonical observables from the positive comparisons of a pattern (`=`, `IN`, and `ISSUBSET`
 * with a CIDR on ipv4/ipv6 values) on indexable paths, in order of first appearance, without
 * duplicates. Negated comparisons, `!=`, values that fail normalisation and other paths are
 * skipped. Throws like parsePattern for an invalid pattern.
 */
export function extractObservables(pattern: string): Observable[] {
  const out = new Map<string, Observable>();
  walk(parsePatternAst(pattern), out);
  return [...out.values()];
}
