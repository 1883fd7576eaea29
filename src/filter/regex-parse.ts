/**
 * A parser for the PCRE subset MISP warninglists use (`/…/flags`), producing an AST that
 * regex-nfa.ts runs in linear time. Everything that needs backtracking (backreferences,
 * lookaround, atomic groups, recursion, conditionals) is refused with a reason, so a pattern is
 * either run in O(value length × pattern size) or not at all.
 *
 * Supported: literals and escapes (`\t \n \r \f \v \e \0 \xHH \x{H…} \uHHHH`, escaped
 * punctuation), `.`, classes with ranges, negation, `\d \w \s \D \W \S` and POSIX names
 * (`[:alpha:]`), anchors `^ $ \A \z \Z \b \B`, groups (capturing, `(?:`, named), inline flags
 * `(?i)` / `(?i-s:…)`, alternation, quantifiers `* + ? {n} {n,} {n,m}` (lazy and possessive
 * suffixes are accepted: they do not change whether a value matches). Flags: `i m s D u A`, and
 * `g` (not PCRE, but found in published lists; ignored).
 */
import { newSet, addRange, addPredicate, classEscape, POSIX, type CharSet } from './regex-charset.js';
import { group } from '../core/indexed.js';

export { setHas, type CharSet } from './regex-charset.js';

export type Assertion = 'bol' | 'eol' | 'start' | 'end' | 'end_nl' | 'word' | 'not_word';

export type Node =
  | { k: 'empty' }
  | { k: 'char'; set: CharSet }
  | { k: 'seq'; items: Node[] }
  | { k: 'alt'; alts: Node[] }
  | { k: 'repeat'; node: Node; min: number; max: number }
  | { k: 'assert'; what: Assertion };

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  /** `$` matches only at the very end (PCRE `D`). */
  dollarEnd: boolean;
}

export class RegexSyntaxError extends Error {}

export const MAX_PATTERN_LENGTH = 4096;
export const MAX_REPEAT = 1000;

export interface ParsedRegex {
  node: Node;
  /** The pattern body, for messages. */
  source: string;
}

const DELIMITERS = '/#~!@%|+;,';

/**
 * Splits a PCRE-style `/body/flags` entry (any of the delimiters `/ # ~ ! @ % | + ; ,`). A string
 * that does not start with a delimiter, or has no closing one followed only by letters, is read as
 * a bare pattern body without flags when `allowBare` is set.
 */
export function splitDelimited(entry: string, allowBare: boolean): { body: string; flags: string } {
  const d = entry[0];
  if (d !== undefined && DELIMITERS.includes(d)) {
    const end = entry.lastIndexOf(d);
    if (end > 0 && /^[a-zA-Z]*$/.test(entry.slice(end + 1)))
      return { body: entry.slice(1, end), flags: entry.slice(end + 1) };
  }
  if (allowBare) return { body: entry, flags: '' };
  throw new RegexSyntaxError('expected a delimited pattern such as /…/i');
}

export function parseRegex(entry: string, allowBare = false): ParsedRegex {
  if (entry.length > MAX_PATTERN_LENGTH)
    throw new RegexSyntaxError(`pattern longer than ${MAX_PATTERN_LENGTH} characters`);
  const { body, flags: flagText } = splitDelimited(entry, allowBare);
  const flags: Flags = { i: false, m: false, s: false, dollarEnd: false };
  let anchored = false;
  for (const f of flagText) {
    if (f === 'i') flags.i = true;
    else if (f === 'm') flags.m = true;
    else if (f === 's') flags.s = true;
    else if (f === 'D') flags.dollarEnd = true;
    else if (f === 'A') anchored = true;
    else if (f === 'u' || f === 'g' || f === 'S') continue;
    else if (f === 'x') throw new RegexSyntaxError('flag x (extended syntax) is not supported');
    else if (f === 'U') throw new RegexSyntaxError('flag U (ungreedy by default) is not supported');
    else throw new RegexSyntaxError(`unknown flag "${f}"`);
  }
  const p = new Parser(body);
  const node = p.parseAlt(flags);
  if (p.pos < body.length) throw p.error(body[p.pos] === ')' ? 'unbalanced ")"' : 'unexpected character');
  return { node: anchored ? { k: 'seq', items: [{ k: 'assert', what: 'start' }, node] } : node, source: body };
}

// ---------------------------------------------------------------------------------------------
// recursive-descent parser

const UNSUPPORTED_GROUPS: [string, string][] = [
  ['?=', 'lookahead'],
  ['?!', 'negative lookahead'],
  ['?<=', 'lookbehind'],
  ['?<!', 'negative lookbehind'],
  ['?>', 'atomic group'],
  ['?|', 'branch reset group'],
  ['?(', 'conditional'],
  ['?R', 'recursion'],
  ['?&', 'subroutine call'],
  ['?P>', 'subroutine call'],
  ['?P=', 'backreference'],
  ['?#', 'comment group'],
];

class Parser {
  pos = 0;
  depth = 0;
  constructor(readonly src: string) {}

  error(msg: string): RegexSyntaxError {
    return new RegexSyntaxError(`${msg} at offset ${this.pos}`);
  }

  parseAlt(flags: Flags): Node {
    if (++this.depth > 100) throw this.error('groups nested deeper than 100');
    const alts: Node[] = [];
    const f = { ...flags };
    alts.push(this.parseSeq(f));
    while (this.src[this.pos] === '|') {
      this.pos++;
      alts.push(this.parseSeq(f));
    }
    this.depth--;
    const [only] = alts;
    return alts.length === 1 && only ? only : { k: 'alt', alts };
  }

  /** A sequence up to `|`, `)` or the end. Inline `(?i)` changes `flags` for the rest of the group. */
  parseSeq(flags: Flags): Node {
    const items: Node[] = [];
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos];
      if (ch === '|' || ch === ')') break;
      const atom = this.parseAtom(flags);
      if (atom === undefined) continue; // an inline flag setting
      const q = this.parseQuantifier(atom);
      // nodes that compile to no state are dropped, so that every node costs at least one state and
      // the state cap bounds compile time (`((?:){1000}){1000}…` would otherwise loop for ever)
      if (q.k !== 'empty') items.push(q);
    }
    const [only] = items;
    return items.length === 1 && only ? only : items.length === 0 ? { k: 'empty' } : { k: 'seq', items };
  }

  parseQuantifier(atom: Node): Node {
    let node = atom;
    let quantified = false;
    for (;;) {
      const ch = this.src[this.pos];
      const afterGroup = this.src[this.pos - 1] === ')';
      let min: number;
      let max: number;
      if (ch === '*') [min, max] = [0, Infinity];
      else if (ch === '+') [min, max] = [1, Infinity];
      else if (ch === '?') [min, max] = [0, 1];
      else if (ch === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos, this.pos + 16));
        if (!m) return node; // a literal "{" in PCRE
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT))
          throw this.error(`repetition count above ${MAX_REPEAT}`);
        if (max < min) throw this.error('repetition range out of order');
        this.pos += m[0].length - 1;
      } else return node;
      if (node.k === 'assert') {
        if (!afterGroup || quantified) throw this.error('nothing to repeat');
        // a grouped assertion repeated: zero times always matches, once or more is the assertion
        this.pos++;
        if (this.src[this.pos] === '?' || this.src[this.pos] === '+') this.pos++;
        if (min === 0) node = { k: 'empty' };
        quantified = true;
        continue;
      }
      if (quantified) throw this.error('quantifier follows a quantifier');
      quantified = true;
      this.pos++;
      // lazy / possessive suffixes do not change the set of matching values
      if (this.src[this.pos] === '?' || this.src[this.pos] === '+') this.pos++;
      if (node.k !== 'empty') node = { k: 'repeat', node, min, max }; // an empty group repeated is empty
    }
  }

  parseAtom(flags: Flags): Node | undefined {
    const ch = this.src[this.pos];
    switch (ch) {
      case '(':
        return this.parseGroup(flags);
      case '[':
        return this.parseClass(flags);
      case '.': {
        this.pos++;
        const set = newSet(false);
        if (!flags.s) {
          addRange(set, 10, 10);
          set.negate = true;
        } else set.negate = true; // negated empty set: everything
        return { k: 'char', set };
      }
      case '^':
        this.pos++;
        return { k: 'assert', what: flags.m ? 'bol' : 'start' };
      case '$':
        this.pos++;
        return { k: 'assert', what: flags.m ? 'eol' : flags.dollarEnd ? 'end' : 'end_nl' };
      case '\\':
        return this.parseEscape(flags);
      case '*':
      case '+':
      case '?':
        throw this.error('nothing to repeat');
      default: {
        const c = this.src.charCodeAt(this.pos++);
        return literal(c, flags.i);
      }
    }
  }

  parseGroup(flags: Flags): Node | undefined {
    this.pos++; // (
    const rest = this.src.slice(this.pos, this.pos + 4);
    if (rest[0] === '?') {
      for (const [prefix, what] of UNSUPPORTED_GROUPS)
        if (rest.startsWith(prefix)) throw this.error(`${what} is not supported (it needs backtracking)`);
      if (rest.startsWith('?:')) {
        this.pos += 2;
        return this.closeGroup(flags);
      }
      const named = /^\?(?:P?<([A-Za-z_][A-Za-z0-9_]*)>|'([A-Za-z_][A-Za-z0-9_]*)')/.exec(
        this.src.slice(this.pos, this.pos + 40),
      );
      if (named) {
        this.pos += named[0].length;
        return this.closeGroup(flags);
      }
      const inline = /^\?([imsxDU]*)(?:-([imsxDU]*))?([:)])/.exec(this.src.slice(this.pos, this.pos + 20));
      if (!inline) throw this.error('unsupported group syntax');
      this.pos += inline[0].length;
      const f = { ...flags };
      for (const [letters, on] of [
        [inline[1] ?? '', true],
        [inline[2] ?? '', false],
      ] as const) {
        for (const l of letters) {
          if (l === 'i') f.i = on;
          else if (l === 'm') f.m = on;
          else if (l === 's') f.s = on;
          else throw this.error(`inline flag ${l} is not supported`);
        }
      }
      if (inline[3] === ')') {
        Object.assign(flags, f); // applies to the rest of the enclosing group
        return undefined;
      }
      return this.closeGroup(f);
    }
    return this.closeGroup(flags);
  }

  closeGroup(flags: Flags): Node {
    const node = this.parseAlt(flags);
    if (this.src[this.pos] !== ')') throw this.error('missing ")"');
    this.pos++;
    return node;
  }

  parseEscape(flags: Flags): Node {
    this.pos++; // backslash
    const ch = this.src[this.pos];
    if (ch === undefined) throw this.error('pattern ends with a backslash');
    const cls = classEscape(ch);
    if (cls) {
      this.pos++;
      const set = newSet(false);
      addPredicate(set, cls.pred, cls.negated);
      return { k: 'char', set };
    }
    switch (ch) {
      case 'b':
        this.pos++;
        return { k: 'assert', what: 'word' };
      case 'B':
        this.pos++;
        return { k: 'assert', what: 'not_word' };
      case 'A':
        this.pos++;
        return { k: 'assert', what: 'start' };
      case 'z':
        this.pos++;
        return { k: 'assert', what: 'end' };
      case 'Z':
        this.pos++;
        return { k: 'assert', what: 'end_nl' };
    }
    if (ch >= '1' && ch <= '9') throw this.error('backreferences are not supported (they need backtracking)');
    if (ch === 'k' || ch === 'g') throw this.error('backreferences are not supported (they need backtracking)');
    return literal(this.escapedCode(), flags.i);
  }

  /** The code unit of a character escape (after the backslash); throws for unsupported ones. */
  escapedCode(): number {
    const ch = this.src[this.pos++];
    if (ch === undefined) throw this.error('pattern ends with a backslash');
    switch (ch) {
      case 't':
        return 9;
      case 'n':
        return 10;
      case 'v':
        return 11;
      case 'f':
        return 12;
      case 'r':
        return 13;
      case 'e':
        return 27;
      case 'a':
        return 7;
      case '0':
        return 0;
      case 'x': {
        const braced = /^\{([0-9a-fA-F]{1,4})\}/.exec(this.src.slice(this.pos, this.pos + 6));
        if (braced) {
          this.pos += braced[0].length;
          return parseInt(group(braced, 1), 16);
        }
        const m = /^[0-9a-fA-F]{1,2}/.exec(this.src.slice(this.pos, this.pos + 2));
        if (!m) return 0;
        this.pos += m[0].length;
        return parseInt(m[0], 16);
      }
      case 'u': {
        const m = /^[0-9a-fA-F]{4}/.exec(this.src.slice(this.pos, this.pos + 4));
        if (!m) throw this.error('\\u needs four hex digits');
        this.pos += 4;
        return parseInt(m[0], 16);
      }
    }
    if (/[A-Za-z0-9]/.test(ch)) {
      this.pos--;
      throw this.error(`unsupported escape \\${ch}`);
    }
    return ch.charCodeAt(0); // escaped punctuation is literal
  }

  parseClass(flags: Flags): Node {
    this.pos++; // [
    const set = newSet(flags.i);
    if (this.src[this.pos] === '^') {
      set.negate = true;
      this.pos++;
    }
    let first = true;
    for (;;) {
      if (this.pos >= this.src.length) throw this.error('missing "]"');
      const ch = this.src[this.pos];
      if (ch === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.pos, this.pos + 12));
      if (posix) {
        const pred = POSIX[group(posix, 2)];
        if (!pred) throw this.error(`unknown POSIX class [:${posix[2]}:]`);
        addPredicate(set, pred, posix[1] === '^');
        this.pos += posix[0].length;
        continue;
      }
      let lo: number;
      if (ch === '\\') {
        this.pos++;
        const cls = classEscape(this.src[this.pos] ?? '');
        if (cls) {
          this.pos++;
          addPredicate(set, cls.pred, cls.negated);
          continue;
        }
        if (this.src[this.pos] === 'b') {
          this.pos++;
          lo = 8;
        } else lo = this.escapedCode();
      } else {
        lo = this.src.charCodeAt(this.pos++);
      }
      let hi = lo;
      if (this.src[this.pos] === '-' && this.src[this.pos + 1] !== ']' && this.pos + 1 < this.src.length) {
        this.pos++;
        if (this.src[this.pos] === '\\') {
          this.pos++;
          if (classEscape(this.src[this.pos] ?? '')) throw this.error('a class escape cannot end a range');
          hi = this.escapedCode();
        } else hi = this.src.charCodeAt(this.pos++);
        if (hi < lo) throw this.error('character range out of order');
      }
      addRange(set, lo, hi);
    }
    return { k: 'char', set };
  }
}

function literal(c: number, fold: boolean): Node {
  const set = newSet(fold);
  addRange(set, c, c);
  return { k: 'char', set };
}
