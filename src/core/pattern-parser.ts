/**
 * A hand-written lexer and recursive-descent parser for the STIX 2.1 patterning grammar
 * (STIX 2.1 §9 and OASIS `STIXPattern.g4`). Linear time; nesting of `(`/`[` is limited to
 * MAX_PATTERN_DEPTH and the input to MAX_PATTERN_LENGTH, so hostile input cannot exhaust the
 * stack or the CPU. Keywords are case-sensitive (`AND`, `true`), as in the grammar.
 */
import { StixgateError } from './errors.js';
import { describe, lex, patternError, PATTERN_KEYWORDS, type Token, type TokKind } from './pattern-lexer.js';
import type {
  ComparisonExpression,
  ComparisonOperator,
  Literal,
  ObjectPath,
  ObservationExpression,
  ObservationOperator,
  PathStep,
  Qualifier,
} from './pattern-ast.js';
import { last } from './indexed.js';

export { PATTERN_KEYWORDS } from './pattern-lexer.js';
export const MAX_PATTERN_LENGTH = 64 * 1024;
export const MAX_PATTERN_DEPTH = 100;

class Parser {
  private i = 0;
  private depth = 0;
  /** The closing `eof` token the lexer always appends; reads past the end see it again. */
  private readonly end: Token;
  constructor(
    private readonly src: string,
    private readonly t: Token[],
  ) {
    this.end = last(t);
  }

  private peek(): Token {
    return this.t[this.i] ?? this.end;
  }
  private next(): Token {
    return this.t[this.i++] ?? this.end;
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
    if (++this.depth > MAX_PATTERN_DEPTH)
      throw patternError(this.src, tok.pos, `nesting deeper than ${MAX_PATTERN_DEPTH}`);
  }

  parse(): ObservationExpression {
    const e = this.observationExpressions();
    const tok = this.peek();
    if (tok.kind !== 'eof') this.fail(tok, 'AND, OR, FOLLOWEDBY, a qualifier or end of pattern');
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
      qualifiers ??= [...e.qualifiers];
      qualifiers.push(q);
    }
    return qualifiers ? { ...e, qualifiers } : e;
  }

  private qualifier(): Qualifier | undefined {
    const tok = this.peek();
    if (tok.kind !== 'word') return undefined;
    if (tok.text === 'WITHIN') {
      this.i++;
      const n = this.next();
      if ((n.kind !== 'int' && n.kind !== 'float') || n.text.startsWith('-'))
        this.fail(n, 'a positive number of seconds');
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
    if (
      this.isKeyword(tok, 'EXISTS') ||
      (this.isKeyword(tok, 'NOT') && this.isKeyword(this.t[this.i + 1] ?? this.end, 'EXISTS'))
    ) {
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
    else if (
      opTok.kind === 'word' &&
      (opTok.text === 'IN' ||
        opTok.text === 'LIKE' ||
        opTok.text === 'MATCHES' ||
        opTok.text === 'ISSUBSET' ||
        opTok.text === 'ISSUPERSET')
    ) {
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
      case 'string':
        return { kind: 'string', value: tok.text };
      case 'int':
        return { kind: 'int', text: tok.text };
      case 'float':
        return { kind: 'float', text: tok.text };
      case 'hex':
        return { kind: 'hex', value: tok.text };
      case 'binary':
        return { kind: 'binary', value: tok.text };
      case 'timestamp':
        return { kind: 'timestamp', value: tok.text };
      case 'word':
        if (allowBool && (tok.text === 'true' || tok.text === 'false'))
          return { kind: 'bool', value: tok.text === 'true' };
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
    throw new StixgateError(
      'STIXGATE_ERR_PATTERN_INVALID',
      `invalid STIX pattern: longer than ${MAX_PATTERN_LENGTH} characters`,
      {
        reason: 'pattern_too_long',
        location: { line: 1, column: MAX_PATTERN_LENGTH + 1 },
      },
    );
  }
  return new Parser(pattern, lex(pattern)).parse();
}
