import { errorMessage } from './errors.js';
/**
 * JSON parsing for untrusted input: no prototype pollution, bounded depth, finite numbers.
 *
 * - Keys that can reach a prototype (`__proto__`, `constructor`, `prototype`) are dropped at any
 *   depth. The reviver only runs when the text mentions one of them, so the common case is a
 *   plain `JSON.parse`.
 * - Nesting deeper than `maxDepth` is refused before parsing (no recursion, linear scan).
 * - Numbers that overflow to ±Infinity (`1e999`) are refused.
 * - A key given twice in one object is refused with the key, line and column of its second
 *   occurrence (JSON.parse would keep the last silently, so two readers could disagree). The
 *   check is a count: members in the text (colons outside strings, counted in the depth scan)
 *   against members parsed; only a mismatch runs the locating scan.
 * - `-0` is read as 0, so one number has one spelling in the store and in ids.
 */

import { escapeText } from './escape.js';

export const DANGEROUS_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const DANGEROUS_TEXT = /"(?:__proto__|constructor|prototype)"/;
/** A JSON number with an exponent of 3+ digits: the only way to write a value that overflows. */
const BIG_EXPONENT = /[0-9][eE][+-]?[0-9]{3,}/;

export type SafeJsonResult =
  | { ok: true; value: unknown }
  | { ok: false; reason: 'parse' | 'too_deep' | 'number_out_of_range' | 'duplicate_key'; message: string };

export interface SafeJsonOptions {
  /** Maximum nesting of arrays and objects (default 64). */
  maxDepth?: number;
}

/** Nesting depth and object member count (colons outside strings) of a JSON text. Stops early past `limit`. */
export function jsonShape(text: string, limit = Infinity): { depth: number; members: number } {
  let depth = 0;
  let max = 0;
  let members = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x3a) members++;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return { depth: max, members };
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return { depth: max, members };
}

/** Nesting depth of a JSON text, counting brackets outside strings. Stops early past `limit`. */
export function jsonDepth(text: string, limit = Infinity): number {
  return jsonShape(text, limit).depth;
}

/**
 * One pass over a parsed value: counts object members, turns -0 into 0 (in place) and reports
 * a number that overflowed to ±Infinity.
 */
function walkParsed(value: unknown, acc: { members: number; infinite: boolean }): unknown {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) acc.infinite = true;
    return value === 0 ? 0 : value;
  }
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (typeof v === 'object' || typeof v === 'number') value[i] = walkParsed(v, acc);
    }
    return value;
  }
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    acc.members++;
    const v = o[k];
    if (typeof v === 'object' || typeof v === 'number') o[k] = walkParsed(v, acc);
  }
  return value;
}

/** Finds the second occurrence of a key in one object: "duplicate key "k" at line L, column C". Runs only on a count mismatch. */
function locateDuplicate(text: string): string {
  const stack: (Set<string> | null)[] = [];
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      line++;
      lineStart = i + 1;
    } else if (c === 0x7b) stack.push(new Set());
    else if (c === 0x5b) stack.push(null);
    else if (c === 0x7d || c === 0x5d) stack.pop();
    else if (c === 0x22) {
      const start = i;
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
      let j = i + 1;
      while (j < text.length && /\s/.test(text.charAt(j))) j++;
      const keys = stack[stack.length - 1];
      if (!keys || text[j] !== ':') continue;
      let key: string;
      try {
        key = JSON.parse(text.slice(start, i + 1)) as string;
      } catch {
        key = text.slice(start + 1, i);
      }
      if (keys.has(key)) return `duplicate key ${excerpt(key)} at line ${line}, column ${start - lineStart + 1}`;
      keys.add(key);
    }
  }
  return 'duplicate key';
}

/**
 * Parses untrusted JSON. `knownDepth` lets a caller that already measured the depth (the STIX
 * splitter counts it while scanning) skip the depth pass.
 */
export function safeJsonParse(
  input: string,
  opts: SafeJsonOptions & { knownDepth?: number; knownMembers?: number } = {},
): SafeJsonResult {
  // a leading byte order mark is ignored, as RFC 8259 §8.1 allows and every other reader does
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const maxDepth = opts.maxDepth ?? 64;
  let depth = opts.knownDepth;
  let members = opts.knownMembers;
  if (depth === undefined || members === undefined) ({ depth, members } = jsonShape(text, maxDepth));
  if (depth > maxDepth) return { ok: false, reason: 'too_deep', message: `nesting deeper than ${maxDepth} levels` };
  let value: unknown;
  // members of dropped subtrees still count, as the text holds them
  const acc = { members: 0, infinite: false };
  try {
    value = DANGEROUS_TEXT.test(text)
      ? JSON.parse(text, function (this: unknown, key: string, v: unknown) {
          if (!DANGEROUS_KEYS.has(key) || Array.isArray(this)) return v;
          acc.members++;
          walkParsed(v, acc);
          return undefined;
        })
      : JSON.parse(text);
  } catch (e) {
    // the engine's message quotes the input: escaped, so a feed cannot forge a log line
    return { ok: false, reason: 'parse', message: `invalid JSON: ${escapeText(errorMessage(e).slice(0, 200))}` };
  }
  value = walkParsed(value, acc);
  if (acc.members !== members) return { ok: false, reason: 'duplicate_key', message: locateDuplicate(text) };
  if (acc.infinite && BIG_EXPONENT.test(text)) {
    return { ok: false, reason: 'number_out_of_range', message: 'a number is out of range (overflows to Infinity)' };
  }
  return { ok: true, value };
}

/** Escapes a short excerpt of untrusted text for a message: control and bidi characters shown, length capped. */
export function excerpt(text: string, max = 80): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return `"${escapeText(cut).replace(/"/g, '\\"')}"`;
}
