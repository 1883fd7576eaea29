/**
 * A hand-written lexer and recursive-descent parser for the STIX 2.1 patterning grammar
 * (STIX 2.1 §9 and OASIS `STIXPattern.g4`). Linear time; nesting of `(`/`[` is limited to
 * MAX_PATTERN_DEPTH and the input to MAX_PATTERN_LENGTH, so hostile input cannot exhaust the
 * stack or the CPU. Keywords are case-sensitive (`AND`, `true`), as in the grammar.
 */
import { StixgateError } from './errors.js';
import type {
  ComparisonExpression, ComparisonOperator, Literal, ObjectPath, ObservationExpression, ObservationOperator,
  PathStep, Qualifier,
} from './pattern-ast.js';

export const MAX_PATTERN_LENGTH = 64 * 1024;
export const MAX_PATTERN_DEPTH = 100;

type TokKind =
  | 'lbrack' | 'rbrack' | 'lparen' | 'rparen' | 'comma' | 'colon' | 'dot' | 'star' | 'op'
  | 'word' | 'string' | 'int' | 'float' | 'hex' | 'binary' | 'timestamp' | 'eof';

interface Token {
  kind: TokKind;
  /** Source text (for words and numbers), the decoded value (strings), or the operator. */
  text: string;
  pos: number;
}

export const PATTERN_KEYWORDS = new Set([
  'AND', 'OR', 'NOT', 'FOLLOWEDBY', 'LIKE', 'MATCHES', 'ISSUPERSET', 'ISSUBSET', 'EXISTS', 'LAST', 'IN',
  'START', 'STOP', 'SECONDS', 'true', 'false', 'WITHIN', 'REPEATS', 'TIMES',
]);

function patternError(src: string, pos: number, detail: string): StixgateError {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < pos && i < src.length; i++) {
    if (src.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  const column = pos - lineStart + 1;
  return new StixgateError('STIXGATE_ERR_PATTERN_INVALID', `invalid STIX pattern: ${detail} at column ${column}`, {
    location: { line, column },
    reason: 'pattern_invalid',
  });
}

function isWs(c: number): boolean {
  return (
    c === 32 || (c >= 9 && c <= 13) || c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
  );
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c) || c === 45;
}
function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}
function isB64(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || isDigit(c) || c === 43 || c === 47;
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof': return 'end of pattern';
    case 'string': return 'a string';
    case 'word': return `'${t.text.length > 40 ? t.text.slice(0, 40) + '…' : t.text}'`;
    default: return `'${t.text.length > 40 ? t.text.slice(0, 40) + '…' : t.text}'`;
  }
}

/** Checks `YYYY-MM-DDTHH:MM:SS[.s+]Z`. */
function validTimestamp(v: string): boolean {
  const n = v.length;
  if (n < 20) return false;
  for (const i of [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]) if (!isDigit(v.charCodeAt(i))) return false;
  if (v[4] !== '-' || v[7] !== '-' || v[10] !== 'T' || v[13] !== ':' || v[16] !== ':' || v[n - 1] !== 'Z') return false;
  const num = (i: number): number => (v.charCodeAt(i) - 48) * 10 + (v.charCodeAt(i + 1) - 48);
  const month = num(5);
  const day = num(8);
  if (month < 1 || month > 12 || day < 1 || day > 31 || num(11) > 23 || num(14) > 59 || num(17) > 60) return false;
  if (n === 20) return true;
  if (v[19] !== '.' || n < 22) return false;
  for (let i = 20; i < n - 1; i++) if (!isDigit(v.charCodeAt(i))) return false;
  return true;
}

function validBase64(v: string): boolean {
  const n = v.length;
  if (n === 0 || n % 4 !== 0) return false;
  let pad = 0;
  if (v.charCodeAt(n - 1) === 61) pad = v.charCodeAt(n - 2) === 61 ? 2 : 1;
  for (let i = 0; i < n - pad; i++) if (!isB64(v.charCodeAt(i))) return false;
  return true;
}

function lex(src: string): Token[] {
  const tokens: Token[] = [];
  const n = src.length;
  let i = 0;
  const push = (kind: TokKind, text: string, pos: number): void => {
    tokens.push({ kind, text, pos });
  };
  while (i < n) {
    const c = src.charCodeAt(i);
    if (isWs(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === 47 && src.charCodeAt(i + 1) === 42) {
      const close = src.indexOf('*/', i + 2);
      if (close < 0) throw patternError(src, start, 'unterminated comment');
      i = close + 2;
      continue;
    }
    if (c === 47 && src.charCodeAt(i + 1) === 47) {
      const nl = src.indexOf('\n', i + 2);
      i = nl < 0 ? n : nl + 1;
      continue;
    }
    // quoted literals: 'string', t'timestamp', h'hex', b'base64'
    const prefix = src.charCodeAt(i + 1) === 39 && (c === 116 || c === 104 || c === 98) ? c : 0;
    if (c === 39 || prefix) {
      const q = prefix ? i + 1 : i;
      let j = q + 1;
      let value = '';
      let runStart = j;
      for (;;) {
        if (j >= n) throw patternError(src, start, 'unterminated string literal');
        const d = src.charCodeAt(j);
        if (d === 39) break;
        if (d === 92) {
          const e = src.charCodeAt(j + 1);
          if (e !== 39 && e !== 92) throw patternError(src, j, "invalid escape in string literal (only \\' and \\\\ are allowed)");
          value += src.slice(runStart, j) + (e === 39 ? "'" : '\\');
          j += 2;
          runStart = j;
          continue;
        }
        j++;
      }
      value += src.slice(runStart, j);
      i = j + 1;
      if (prefix === 116) {
        if (!validTimestamp(value)) throw patternError(src, start, 'invalid timestamp literal (expected t\'YYYY-MM-DDTHH:MM:SS[.s]Z\')');
        push('timestamp', value, start);
      } else if (prefix === 104) {
        if (value.length % 2 !== 0) throw patternError(src, start, 'invalid hex literal (odd number of digits)');
        for (let k = 0; k < value.length; k++) if (!isHexDigit(value.charCodeAt(k))) throw patternError(src, start, 'invalid hex literal');
        push('hex', value.toLowerCase(), start);
      } else if (prefix === 98) {
        if (!validBase64(value)) throw patternError(src, start, 'invalid binary (base64) literal');
        push('binary', value, start);
      } else {
        push('string', value, start);
      }
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(src.charCodeAt(j))) j++;
      const text = src.slice(i, j);
      push('word', text, start);
      i = j;
      continue;
    }
    if (isDigit(c) || c === 43 || c === 45 || (c === 46 && isDigit(src.charCodeAt(i + 1)))) {
      let j = i;
      const sign = c === 43 || c === 45 ? c : 0;
      if (sign) j++;
      const intStart = j;
      while (j < n && isDigit(src.charCodeAt(j))) j++;
      const intDigits = j - intStart;
      if (src.charCodeAt(j) === 46 && isDigit(src.charCodeAt(j + 1))) {
        j++;
        while (j < n && isDigit(src.charCodeAt(j))) j++;
        push('float', src.slice(sign === 43 ? i + 1 : i, j), start);
        i = j;
        continue;
      }
      if (intDigits === 0) throw patternError(src, start, 'invalid number');
      if (intDigits > 1 && src.charCodeAt(intStart) === 48) throw patternError(src, start, 'invalid integer (leading zero)');
      push('int', src.slice(sign === 43 ? i + 1 : i, j), start);
      i = j;
      continue;
    }
    switch (c) {
      case 91: push('lbrack', '[', start); i++; continue;
      case 93: push('rbrack', ']', start); i++; continue;
      case 40: push('lparen', '(', start); i++; continue;
      case 41: push('rparen', ')', start); i++; continue;
      case 44: push('comma', ',', start); i++; continue;
      case 58: push('colon', ':', start); i++; continue;
      case 46: push('dot', '.', start); i++; continue;
      case 42: push('star', '*', start); i++; continue;
      case 61: // = ==
        push('op', '=', start);
        i += src.charCodeAt(i + 1) === 61 ? 2 : 1;
        continue;
      case 33: // !=
        if (src.charCodeAt(i + 1) !== 61) break;
        push('op', '!=', start);
        i += 2;
        continue;
      case 60: { // < <= <>
        const d = src.charCodeAt(i + 1);
        push('op', d === 61 ? '<=' : d === 62 ? '!=' : '<', start);
        i += d === 61 || d === 62 ? 2 : 1;
        continue;
      }
      case 62: { // > >=
        const d = src.charCodeAt(i + 1);
        push('op', d === 61 ? '>=' : '>', start);
        i += d === 61 ? 2 : 1;
        continue;
      }
      default:
        break;
    }
    const cp = src.codePointAt(i) as number;
    const shown = cp >= 0x20 && cp < 0x7f ? `'${String.fromCodePoint(cp)}'` : `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    throw patternError(src, start, `unexpected character ${shown}`);
  }
  push('eof', '', n);
  return tokens;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly src: string,
    private readonly t: Token[],
  ) {}

  private peek(): Token {
    return this.t[this.i];
  }
  private next(): Token {
    return this.t[this.i++];
  }
  private fail(tok: Token, expected: string): never {
    throw patternError(this.src, tok.pos, `expected ${expected} but found ${describe(tok)}`);
  }
  private isKeyword(tok: Token, kw: string): boolean {
    return tok.kind === 'word' && tok.text === kw;
  }
  private expect(kind: TokKind, what: string): Token {
    const tok = this.next();
    if (tok.kind !== kind) this.fail(tok, what);
    return tok;
  }
  private expectKeyword(kw: string): void {
    const tok = this.next();
    if (!this.isKeyword(tok, kw)) this.fail(tok, kw);
  }
  private enter(tok: Token): void {
    if (++this.depth > MAX_PATTERN_DEPTH) throw patternError(this.src, tok.pos, `nesting deeper than ${MAX_PATTERN_DEPTH}`);
  }

  parse(): ObservationExpression {
    const e = this.observationExpressions();
    const tok = this.peek();
    if (tok.kind !== 'eof') this.fail(tok, "AND, OR, FOLLOWEDBY, a qualifier or end of pattern");
    return e;
  }

  private observationChain(op: ObservationOperator, operand: () => ObservationExpression): ObservationExpression {
    const first = operand();
    if (!this.isKeyword(this.peek(), op)) return first;
    const operands: ObservationExpression[] = [];
    const add = (e: ObservationExpression): void => {
      if (e.kind === 'observation-op' && e.op === op && e.qualifiers.length === 0) operands.push(...e.operands);
      else operands.push(e);
    };
    add(first);
    while (this.isKeyword(this.peek(), op)) {
      this.i++;
      add(operand());
    }
    return { kind: 'observation-op', op, operands, qualifiers: [] };
  }

  private observationExpressions(): ObservationExpression {
    return this.observationChain('FOLLOWEDBY', () => this.observationOr());
  }
  private observationOr(): ObservationExpression {
    return this.observationChain('OR', () => this.observationAnd());
  }
  private observationAnd(): ObservationExpression {
    return this.observationChain('AND', () => this.observationUnit());
  }

  private observationUnit(): ObservationExpression {
    const tok = this.next();
    let e: ObservationExpression;
    if (tok.kind === 'lbrack') {
      this.enter(tok);
      const comparison = this.comparisonExpression();
      this.expect('rbrack', "']'");
      this.depth--;
      e = { kind: 'observation', comparison, qualifiers: [] };
    } else if (tok.kind === 'lparen') {
      this.enter(tok);
      e = this.observationExpressions();
      this.expect('rparen', "')'");
      this.depth--;
    } else {
      this.fail(tok, "'[' or '('");
    }
    let qualifiers: Qualifier[] | undefined;
    for (;;) {
      const q = this.qualifier();
      if (!q) break;
      (qualifiers ??= [...e.qualifiers]).push(q);
    }
    return qualifiers ? { ...e, qualifiers } : e;
  }

  private qualifier(): Qualifier | undefined {
    const tok = this.peek();
    if (tok.kind !== 'word') return undefined;
    if (tok.text === 'WITHIN') {
      this.i++;
      const n = this.next();
      if ((n.kind !== 'int' && n.kind !== 'float') || n.text.startsWith('-')) this.fail(n, 'a positive number of seconds');
      this.expectKeyword('SECONDS');
      return { kind: 'within', seconds: n.text };
    }
    if (tok.text === 'REPEATS') {
      this.i++;
      const n = this.next();
      if (n.kind !== 'int' || n.text.startsWith('-')) this.fail(n, 'a positive integer');
      this.expectKeyword('TIMES');
      return { kind: 'repeats', times: n.text };
    }
    if (tok.text === 'START') {
      this.i++;
      const start = this.expect('timestamp', "a timestamp literal t'…'").text;
      this.expectKeyword('STOP');
      const stop = this.expect('timestamp', "a timestamp literal t'…'").text;
      return { kind: 'start-stop', start, stop };
    }
    return undefined;
  }

  private comparisonChain(op: 'AND' | 'OR', operand: () => ComparisonExpression): ComparisonExpression {
    const first = operand();
    if (!this.isKeyword(this.peek(), op)) return first;
    const operands: ComparisonExpression[] = [];
    const add = (e: ComparisonExpression): void => {
      if (e.kind === 'comparison-op' && e.op === op) operands.push(...e.operands);
      else operands.push(e);
    };
    add(first);
    while (this.isKeyword(this.peek(), op)) {
      this.i++;
      add(operand());
    }
    return { kind: 'comparison-op', op, operands };
  }

  private comparisonExpression(): ComparisonExpression {
    return this.comparisonChain('OR', () => this.comparisonChain('AND', () => this.propTest()));
  }

  private propTest(): ComparisonExpression {
    const tok = this.peek();
    if (tok.kind === 'lparen') {
      this.i++;
      this.enter(tok);
      const e = this.comparisonExpression();
      this.expect('rparen', "')'");
      this.depth--;
      return e;
    }
    if (this.isKeyword(tok, 'EXISTS') || (this.isKeyword(tok, 'NOT') && this.isKeyword(this.t[this.i + 1], 'EXISTS'))) {
      const negated = tok.text === 'NOT';
      this.i += negated ? 2 : 1;
      return { kind: 'exists', negated, path: this.objectPath() };
    }
    const path = this.objectPath();
    let negated = false;
    if (this.isKeyword(this.peek(), 'NOT')) {
      this.i++;
      negated = true;
    }
    const opTok = this.next();
    let operator: ComparisonOperator;
    if (opTok.kind === 'op') operator = opTok.text as ComparisonOperator;
    else if (opTok.kind === 'word' && (opTok.text === 'IN' || opTok.text === 'LIKE' || opTok.text === 'MATCHES' || opTok.text === 'ISSUBSET' || opTok.text === 'ISSUPERSET')) {
      operator = opTok.text;
    } else {
      this.fail(opTok, 'a comparison operator');
    }
    switch (operator) {
      case '=':
      case '!=':
        return { kind: 'comparison', path, negated, operator, value: this.literal(true) };
      case '<':
      case '<=':
      case '>':
      case '>=':
        return { kind: 'comparison', path, negated, operator, value: this.literal(false) };
      case 'IN':
        return { kind: 'comparison', path, negated, operator, value: this.setLiteral() };
      default: {
        const s = this.expect('string', 'a string literal');
        return { kind: 'comparison', path, negated, operator, value: { kind: 'string', value: s.text } };
      }
    }
  }

  private setLiteral(): Literal[] {
    const open = this.expect('lparen', "'(' starting a set");
    const items: Literal[] = [];
    if (this.peek().kind === 'rparen') {
      this.i++;
      return items;
    }
    for (;;) {
      items.push(this.literal(true));
      const tok = this.next();
      if (tok.kind === 'rparen') return items;
      if (tok.kind !== 'comma') this.fail(tok, "',' or ')'");
      if (items.length > MAX_PATTERN_LENGTH) throw patternError(this.src, open.pos, 'set too large');
    }
  }

  private literal(allowBool: boolean): Literal {
    const tok = this.next();
    switch (tok.kind) {
      case 'string': return { kind: 'string', value: tok.text };
      case 'int': return { kind: 'int', text: tok.text };
      case 'float': return { kind: 'float', text: tok.text };
      case 'hex': return { kind: 'hex', value: tok.text };
      case 'binary': return { kind: 'binary', value: tok.text };
      case 'timestamp': return { kind: 'timestamp', value: tok.text };
      case 'word':
        if (allowBool && (tok.text === 'true' || tok.text === 'false')) return { kind: 'bool', value: tok.text === 'true' };
        break;
      default:
        break;
    }
    return this.fail(tok, allowBool ? 'a literal' : 'an orderable literal (string, number, hex, binary or timestamp)');
  }

  private objectPath(): ObjectPath {
    const typeTok = this.next();
    if (typeTok.kind !== 'word' || PATTERN_KEYWORDS.has(typeTok.text)) this.fail(typeTok, 'an object type');
    this.expect('colon', "':' after the object type");
    const steps: PathStep[] = [{ kind: 'key', name: this.key() }];
    for (;;) {
      const tok = this.peek();
      if (tok.kind === 'dot') {
        this.i++;
        steps.push({ kind: 'key', name: this.key() });
      } else if (tok.kind === 'lbrack') {
        this.i++;
        const idx = this.next();
        if (idx.kind === 'star') steps.push({ kind: 'index', index: '*' });
        else if (idx.kind === 'int') steps.push({ kind: 'index', index: Number(idx.text) });
        else this.fail(idx, "a list index or '*'");
        this.expect('rbrack', "']' closing the list index");
      } else {
        return { objectType: typeTok.text, steps };
      }
    }
  }

  private key(): string {
    const tok = this.next();
    if (tok.kind === 'string') return tok.text;
    if (tok.kind === 'word' && !PATTERN_KEYWORDS.has(tok.text)) {
      const h = tok.text.indexOf('-');
      if (h >= 0) throw patternError(this.src, tok.pos + h, "'-' in an unquoted property name (quote it: 'a-b')");
      return tok.text;
    }
    return this.fail(tok, 'a property name');
  }
}

/** Parses a STIX 2.1 pattern; throws STIXGATE_ERR_PATTERN_INVALID with the 1-based line/column. */
export function parsePatternAst(pattern: string): ObservationExpression {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new StixgateError('STIXGATE_ERR_PATTERN_INVALID', `invalid STIX pattern: longer than ${MAX_PATTERN_LENGTH} characters`, {
      reason: 'pattern_too_long',
      location: { line: 1, column: MAX_PATTERN_LENGTH + 1 },
    });
  }
  return new Parser(pattern, lex(pattern)).parse();
}
