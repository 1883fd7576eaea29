/**
 * Character sets for the linear-time regex engine: ASCII membership in a bitmap, other code
 * units as ranges; PCRE's ASCII-only `\d \w \s` and POSIX classes.
 */

export interface CharSet {
  /** Membership for code units 0-127. */
  ascii: Uint8Array;
  /** Inclusive ranges of code units >= 128. */
  ranges: [number, number][];
  negate: boolean;
  /** Match case-insensitively (non-ASCII folded at match time). */
  fold: boolean;
}

export function newSet(fold: boolean): CharSet {
  return { ascii: new Uint8Array(128), ranges: [], negate: false, fold };
}

export function addRange(set: CharSet, lo: number, hi: number): void {
  for (let c = lo; c <= Math.min(hi, 127); c++) {
    set.ascii[c] = 1;
    if (set.fold) {
      if (c >= 65 && c <= 90) set.ascii[c + 32] = 1;
      else if (c >= 97 && c <= 122) set.ascii[c - 32] = 1;
    }
  }
  if (hi >= 128) set.ranges.push([Math.max(lo, 128), hi]);
}

export const isDigit = (c: number) => c >= 48 && c <= 57;
export const isWordChar = (c: number) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
/** PCRE \s: space, \t \n \v \f \r. */
export const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);

export const POSIX: Record<string, (c: number) => boolean> = {
  alpha: (c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122),
  digit: isDigit,
  alnum: (c) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122),
  word: isWordChar,
  space: isSpace,
  blank: (c) => c === 32 || c === 9,
  upper: (c) => c >= 65 && c <= 90,
  lower: (c) => c >= 97 && c <= 122,
  xdigit: (c) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102),
  punct: (c) => (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126),
  print: (c) => c >= 32 && c <= 126,
  graph: (c) => c >= 33 && c <= 126,
  cntrl: (c) => c < 32 || c === 127,
};

/** Adds an ASCII predicate class (or its complement, which includes every non-ASCII unit). */
export function addPredicate(set: CharSet, pred: (c: number) => boolean, negated: boolean): void {
  for (let c = 0; c < 128; c++) if (pred(c) !== negated) addRange(set, c, c);
  if (negated) set.ranges.push([128, 0xffff]);
}

export function classEscape(letter: string): { pred: (c: number) => boolean; negated: boolean } | undefined {
  switch (letter) {
    case 'd':
      return { pred: isDigit, negated: false };
    case 'D':
      return { pred: isDigit, negated: true };
    case 'w':
      return { pred: isWordChar, negated: false };
    case 'W':
      return { pred: isWordChar, negated: true };
    case 's':
      return { pred: isSpace, negated: false };
    case 'S':
      return { pred: isSpace, negated: true };
    default:
      return undefined;
  }
}

export function setHas(set: CharSet, c: number): boolean {
  let hit: boolean;
  if (c < 128) hit = set.ascii[c] === 1;
  else {
    hit = inRanges(set.ranges, c);
    if (!hit && set.fold) {
      const ch = String.fromCharCode(c);
      const lo = ch.toLowerCase().charCodeAt(0);
      const up = ch.toUpperCase().charCodeAt(0);
      hit =
        (lo < 128 ? set.ascii[lo] === 1 : inRanges(set.ranges, lo)) ||
        (up < 128 ? set.ascii[up] === 1 : inRanges(set.ranges, up));
    }
  }
  return hit !== set.negate;
}

function inRanges(ranges: [number, number][], c: number): boolean {
  for (const [lo, hi] of ranges) if (c >= lo && c <= hi) return true;
  return false;
}
