/**
 * JSON parsing for untrusted input (F12, F13).
 *
 * - Keys that can reach a prototype (`__proto__`, `constructor`, `prototype`) are dropped at any
 *   depth. The reviver only runs when the text mentions one of them, so the common case is a
 *   plain `JSON.parse`.
 * - Nesting deeper than `maxDepth` is refused before parsing (no recursion, linear scan).
 * - Numbers that overflow to ±Infinity (`1e999`) are refused.
 */

import { escapeText } from './escape.js';

export const DANGEROUS_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const DANGEROUS_TEXT = /"(?:__proto__|constructor|prototype)"/;
/** A JSON number with an exponent of 3+ digits: the only way to write a value that overflows. */
const BIG_EXPONENT = /[0-9][eE][+-]?[0-9]{3,}/;

export type SafeJsonResult =
  | { ok: true; value: unknown }
  | { ok: false; reason: 'parse' | 'too_deep' | 'number_out_of_range'; message: string };

export interface SafeJsonOptions {
  /** Maximum nesting of arrays and objects (default 64). */
  maxDepth?: number;
}

function dropDangerous(this: unknown, key: string, value: unknown): unknown {
  return DANGEROUS_KEYS.has(key) ? undefined : value;
}

/** Nesting depth of a JSON text, counting brackets outside strings. Stops early past `limit`. */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

function hasInfinity(value: unknown, depth = 0): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (depth > 256 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => hasInfinity(v, depth + 1));
  for (const v of Object.values(value)) if (hasInfinity(v, depth + 1)) return true;
  return false;
}

/**
 * Parses untrusted JSON. `knownDepth` lets a caller that already measured the depth (the STIX
 * splitter counts it while scanning) skip the depth pass.
 */
export function safeJsonParse(input: string, opts: SafeJsonOptions & { knownDepth?: number } = {}): SafeJsonResult {
  // a leading byte order mark is ignored, as RFC 8259 §8.1 allows and every other reader does
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const maxDepth = opts.maxDepth ?? 64;
  const depth = opts.knownDepth ?? jsonDepth(text, maxDepth);
  if (depth > maxDepth) return { ok: false, reason: 'too_deep', message: `nesting deeper than ${maxDepth} levels` };
  let value: unknown;
  try {
    value = DANGEROUS_TEXT.test(text) ? JSON.parse(text, dropDangerous) : JSON.parse(text);
  } catch (e) {
    // the engine's message quotes the input: escaped, so a feed cannot forge a log line
    return { ok: false, reason: 'parse', message: `invalid JSON: ${escapeText((e as Error).message.slice(0, 200))}` };
  }
  if (BIG_EXPONENT.test(text) && hasInfinity(value)) {
    return { ok: false, reason: 'number_out_of_range', message: 'a number is out of range (overflows to Infinity)' };
  }
  return { ok: true, value };
}

/** Escapes a short excerpt of untrusted text for a message: control and bidi characters shown, length capped. */
export function excerpt(text: string, max = 80): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return `"${escapeText(cut).replace(/"/g, '\\"')}"`;
}
