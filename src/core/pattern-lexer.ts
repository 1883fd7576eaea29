/**
 * The STIX 2.1 pattern lexer (linear scan) and the pattern error constructor, used by
 * pattern-parser.ts. Keywords are case-sensitive, as in OASIS `STIXPattern.g4`.
 */
import { StixgateError } from './errors.js';

export type TokKind =
  | 'lbrack'
  | 'rbrack'
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'colon'
  | 'dot'
  | 'star'
  | 'op'
  | 'word'
  | 'string'
  | 'int'
  | 'float'
  | 'hex'
  | 'binary'
  | 'timestamp'
  | 'eof';

export interface Token {
  kind: TokKind;
  /** Source text (for words and numbers), the decoded value (strings), or the operator. */
  text: string;
  pos: number;
}

export const PATTERN_KEYWORDS = new Set([
  'AND',
  'OR',
  'NOT',
  'FOLLOWEDBY',
  'LIKE',
  'MATCHES',
  'ISSUPERSET',
  'ISSUBSET',
  'EXISTS',
  'LAST',
  'IN',
  'START',
  'STOP',
  'SECONDS',
  'true',
  'false',
  'WITHIN',
  'REPEATS',
  'TIMES',
]);

export function patternError(src: string, pos: number, detail: string): StixgateError {
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
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
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

export function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of pattern';
    case 'string':
      return 'a string';
    case 'word':
      return `'${t.text.length > 40 ? `${t.text.slice(0, 40)}…` : t.text}'`;
    default:
      return `'${t.text.length > 40 ? `${t.text.slice(0, 40)}…` : t.text}'`;
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

export function lex(src: string): Token[] {
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
          if (e !== 39 && e !== 92)
            throw patternError(src, j, "invalid escape in string literal (only \\' and \\\\ are allowed)");
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
        if (!validTimestamp(value))
          throw patternError(src, start, "invalid timestamp literal (expected t'YYYY-MM-DDTHH:MM:SS[.s]Z')");
        push('timestamp', value, start);
      } else if (prefix === 104) {
        if (value.length % 2 !== 0) throw patternError(src, start, 'invalid hex literal (odd number of digits)');
        for (let k = 0; k < value.length; k++)
          if (!isHexDigit(value.charCodeAt(k))) throw patternError(src, start, 'invalid hex literal');
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
      if (intDigits > 1 && src.charCodeAt(intStart) === 48)
        throw patternError(src, start, 'invalid integer (leading zero)');
      push('int', src.slice(sign === 43 ? i + 1 : i, j), start);
      i = j;
      continue;
    }
    switch (c) {
      case 91:
        push('lbrack', '[', start);
        i++;
        continue;
      case 93:
        push('rbrack', ']', start);
        i++;
        continue;
      case 40:
        push('lparen', '(', start);
        i++;
        continue;
      case 41:
        push('rparen', ')', start);
        i++;
        continue;
      case 44:
        push('comma', ',', start);
        i++;
        continue;
      case 58:
        push('colon', ':', start);
        i++;
        continue;
      case 46:
        push('dot', '.', start);
        i++;
        continue;
      case 42:
        push('star', '*', start);
        i++;
        continue;
      case 61: // = ==
        push('op', '=', start);
        i += src.charCodeAt(i + 1) === 61 ? 2 : 1;
        continue;
      case 33: // !=
        if (src.charCodeAt(i + 1) !== 61) break;
        push('op', '!=', start);
        i += 2;
        continue;
      case 60: {
        // < <= <>
        const d = src.charCodeAt(i + 1);
        push('op', d === 61 ? '<=' : d === 62 ? '!=' : '<', start);
        i += d === 61 || d === 62 ? 2 : 1;
        continue;
      }
      case 62: {
        // > >=
        const d = src.charCodeAt(i + 1);
        push('op', d === 61 ? '>=' : '>', start);
        i += d === 61 ? 2 : 1;
        continue;
      }
      default:
        break;
    }
    const cp = src.codePointAt(i) as number;
    const shown =
      cp >= 0x20 && cp < 0x7f ? `'${String.fromCodePoint(cp)}'` : `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    throw patternError(src, start, `unexpected character ${shown}`);
  }
  push('eof', '', n);
  return tokens;
}
