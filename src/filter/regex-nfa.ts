import { errorMessage } from '../core/errors.js';
/**
 * Linear-time regex matching: patterns parsed by regex-parse.ts become one Thompson NFA per
 * warninglist (each pattern ends in its own accepting state), simulated with state sets. The cost
 * of testing a value is O(value length × states), whatever the pattern or the value: there is no
 * backtracking, so no input can make a pattern run away, and nothing needs a deadline.
 */
import { parseRegex, setHas, type Assertion, type CharSet, type Node } from './regex-parse.js';

/** Cap on NFA states for one list (counted repetitions are expanded). */
export const MAX_STATES = 50_000;

const CHAR = 0;
const SPLIT = 1;
const ASSERT = 2;
const ACCEPT = 3;

interface Program {
  kind: Uint8Array;
  out1: Int32Array;
  out2: Int32Array;
  /** CHAR: index into sets; ASSERT: assertion index; ACCEPT: pattern index. */
  arg: Int32Array;
  sets: CharSet[];
  start: number;
  size: number;
}

const ASSERTIONS: Assertion[] = ['bol', 'eol', 'start', 'end', 'end_nl', 'word', 'not_word'];

class Builder {
  kind: number[] = [];
  out1: number[] = [];
  out2: number[] = [];
  arg: number[] = [];
  sets: CharSet[] = [];

  state(kind: number, arg = 0): number {
    if (this.kind.length >= MAX_STATES) throw new RangeError(`pattern needs more than ${MAX_STATES} states`);
    this.kind.push(kind);
    this.out1.push(-1);
    this.out2.push(-1);
    this.arg.push(arg);
    return this.kind.length - 1;
  }

  /** Compiles `node` so that it continues at `next`; returns its entry state. Built back to front. */
  compile(node: Node, next: number): number {
    switch (node.k) {
      case 'empty':
        return next;
      case 'char': {
        this.sets.push(node.set);
        const s = this.state(CHAR, this.sets.length - 1);
        this.out1[s] = next;
        return s;
      }
      case 'assert': {
        const s = this.state(ASSERT, ASSERTIONS.indexOf(node.what));
        this.out1[s] = next;
        return s;
      }
      case 'seq': {
        let cur = next;
        for (const item of node.items.toReversed()) cur = this.compile(item, cur);
        return cur;
      }
      case 'alt': {
        const [lastAlt, ...rest] = node.alts.toReversed();
        if (lastAlt === undefined) throw new Error('regex: an alternation without alternatives');
        let cur = this.compile(lastAlt, next);
        for (const alt of rest) {
          const s = this.state(SPLIT);
          this.out1[s] = this.compile(alt, next);
          this.out2[s] = cur;
          cur = s;
        }
        return cur;
      }
      case 'repeat': {
        let cur = next;
        if (node.max === Infinity) {
          // loop: split → body → split, or exit
          const loop = this.state(SPLIT);
          this.out1[loop] = this.compile(node.node, loop);
          this.out2[loop] = next;
          cur = loop;
        } else {
          for (let i = node.min; i < node.max; i++) {
            const s = this.state(SPLIT);
            this.out1[s] = this.compile(node.node, cur);
            this.out2[s] = next;
            cur = s;
          }
        }
        for (let i = 0; i < node.min; i++) cur = this.compile(node.node, cur);
        return cur;
      }
    }
  }
}

export interface CompiledPatterns {
  /** Index of a pattern matching somewhere in `value` (the one whose match ends first, the lowest index on a tie), or -1. */
  search(value: string): number;
  readonly states: number;
}

/**
 * Compiles PCRE-style patterns into one program. Throws RegexSyntaxError / RangeError for the
 * first pattern that cannot be compiled; use `compilePattern` first to vet entries one by one.
 */
export function compilePatterns(patterns: readonly string[], allowBare = false): CompiledPatterns {
  const b = new Builder();
  const entries: number[] = [];
  for (const [i, pattern] of patterns.entries()) {
    const accept = b.state(ACCEPT, i);
    entries.push(b.compile(parseRegex(pattern, allowBare).node, accept));
  }
  // a fan-out of SPLITs over every pattern's entry state
  let start = -1;
  for (const entry of entries.toReversed()) {
    if (start < 0) start = entry;
    else {
      const s = b.state(SPLIT);
      b.out1[s] = entry;
      b.out2[s] = start;
      start = s;
    }
  }
  const prog: Program = {
    kind: Uint8Array.from(b.kind),
    out1: Int32Array.from(b.out1),
    out2: Int32Array.from(b.out2),
    arg: Int32Array.from(b.arg),
    sets: b.sets,
    start,
    size: b.kind.length,
  };
  return { search: (v) => (start < 0 ? -1 : run(prog, v)), states: prog.size };
}

/** Checks one pattern; returns undefined when it compiles, else the reason. */
export function vetPattern(pattern: string, allowBare = false): string | undefined {
  try {
    compilePatterns([pattern], allowBare);
    return undefined;
  } catch (e) {
    return errorMessage(e);
  }
}

const isWord = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

function holds(a: number, s: string, i: number): boolean {
  const n = s.length;
  switch (ASSERTIONS[a]) {
    case 'start':
      return i === 0;
    case 'end':
      return i === n;
    case 'end_nl':
      return i === n || (i === n - 1 && s.charCodeAt(i) === 10);
    case 'bol':
      return i === 0 || s.charCodeAt(i - 1) === 10;
    case 'eol':
      return i === n || s.charCodeAt(i) === 10;
    case 'word':
    case 'not_word': {
      const before = i > 0 && isWord(s.charCodeAt(i - 1));
      const after = i < n && isWord(s.charCodeAt(i));
      return (before !== after) === (ASSERTIONS[a] === 'word');
    }
    default:
      return false;
  }
}

/** Scratch buffers, grown on demand (matching is synchronous, so a run never shares them). */
let cur = new Int32Array(64);
let nxt = new Int32Array(64);
let mark = new Int32Array(64);
let stack = new Int32Array(130);
let gen = 0;
let best = -1;

function nextGen(): void {
  if (++gen === 0x7fffffff) {
    mark.fill(0);
    gen = 1;
  }
}

/** Follows SPLIT / ASSERT transitions from `from` at position i, appending CHAR states to `list`. */
function add(p: Program, s: string, from: number, i: number, list: Int32Array, n: number): number {
  let sp = 0;
  stack[sp++] = from;
  while (sp > 0) {
    // states index the program's arrays and `mark` (sized to the program), hence the `!` reads
    const st = stack[--sp]!;
    if (mark[st] === gen) continue;
    mark[st] = gen;
    switch (p.kind[st]) {
      case CHAR:
        list[n++] = st;
        break;
      case SPLIT:
        stack[sp++] = p.out2[st]!;
        stack[sp++] = p.out1[st]!;
        break;
      case ASSERT:
        if (holds(p.arg[st]!, s, i)) stack[sp++] = p.out1[st]!;
        break;
      case ACCEPT:
        if (best < 0 || p.arg[st]! < best) best = p.arg[st]!;
        break;
    }
  }
  return n;
}

function run(p: Program, s: string): number {
  if (mark.length < p.size) {
    const size = Math.max(p.size, mark.length * 2);
    cur = new Int32Array(size);
    nxt = new Int32Array(size);
    mark = new Int32Array(size);
    stack = new Int32Array(2 * size + 2);
    gen = 0;
  }
  best = -1;
  nextGen();
  let nCur = add(p, s, p.start, 0, cur, 0);
  if (best >= 0) return best;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    nextGen();
    let nNext = 0;
    for (let k = 0; k < nCur; k++) {
      const st = cur[k]!; // k < nCur, the states add() listed
      if (setHas(p.sets[p.arg[st]!]!, c)) nNext = add(p, s, p.out1[st]!, i + 1, nxt, nNext);
    }
    // a match may start at any position
    nNext = add(p, s, p.start, i + 1, nxt, nNext);
    if (best >= 0) return best;
    const t = cur;
    cur = nxt;
    nxt = t;
    nCur = nNext;
  }
  return -1;
}
