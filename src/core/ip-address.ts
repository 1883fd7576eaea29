/**
 * Strict IPv4 / IPv6 text parsing and RFC 5952 formatting, as hand-written linear scanners
 * (no regexes, no allocation beyond the result). Re-exported by observable.ts.
 */
import { hexVal } from './hex.js';

/**
 * A strict dotted quad → uint32. Rejects the ambiguous forms some resolvers accept
 * (`0x7f.1`, `2130706433`, `017.0.0.1` with leading zeros, fewer than four parts).
 */
export function parseIpv4(s: string): number | undefined {
  return parseIpv4Range(s, 0, s.length);
}

/** parseIpv4 over s[start, end). */
export function parseIpv4Range(s: string, start: number, end: number): number | undefined {
  if (end - start < 7 || end - start > 15) return undefined;
  let result = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return undefined; // leading zero
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return undefined;
    } else if (c === 46) {
      if (digits === 0 || parts === 3) return undefined;
      result = result * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || parts !== 3) return undefined;
  return result * 256 + part;
}

export function formatIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:0:0/96`), else undefined. */
export function ipv4Mapped(words: Uint16Array): number | undefined {
  for (let i = 0; i < 5; i++) if (words[i] !== 0) return undefined;
  if (words[5] !== 0xffff) return undefined;
  return words[6]! * 65536 + words[7]!; // an address is always eight words
}

/**
 * RFC 4291 §2.2 text → eight 16-bit words. Accepts `::` compression and a trailing embedded
 * dotted quad; rejects zone ids (`%eth0`), brackets and over-long groups.
 */
export function parseIpv6(s: string): Uint16Array | undefined {
  return parseIpv6Range(s, 0, s.length);
}

export function parseIpv6Range(s: string, start: number, end: number): Uint16Array | undefined {
  const len = end - start;
  if (len < 2 || len > 45) return undefined;
  const words = new Uint16Array(8);
  let n = 0; // words written
  let gap = -1; // index in words where '::' was
  let i = start;
  if (s.charCodeAt(i) === 58) {
    if (s.charCodeAt(i + 1) !== 58) return undefined;
    gap = 0;
    i += 2;
    if (i === end) return words; // '::'
  }
  while (i < end) {
    if (n === 8) return undefined;
    // one group: hex digits, or a dotted quad at the end
    const groupStart = i;
    let v = 0;
    let digits = 0;
    while (i < end) {
      const h = hexVal(s.charCodeAt(i));
      if (h < 0) break;
      v = v * 16 + h;
      digits++;
      i++;
    }
    if (i < end && s.charCodeAt(i) === 46) {
      // embedded IPv4: must be the last thing, and fit in two words
      if (n > 6) return undefined;
      const v4 = parseIpv4Range(s, groupStart, end);
      if (v4 === undefined) return undefined;
      words[n++] = v4 >>> 16;
      words[n++] = v4 & 0xffff;
      i = end;
      break;
    }
    if (digits === 0 || digits > 4) return undefined;
    words[n++] = v;
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return undefined;
    i++;
    if (s.charCodeAt(i) === 58) {
      if (gap >= 0) return undefined; // a second '::'
      gap = n;
      i++;
      if (i === end) break;
    } else if (i === end) {
      return undefined; // trailing single ':'
    }
  }
  if (gap < 0) return n === 8 ? words : undefined;
  if (n === 8) return undefined; // '::' must stand for at least one group
  // move the words after the gap to the end
  const tail = n - gap;
  for (let k = 0; k < tail; k++) {
    words[7 - k] = words[n - 1 - k]!; // n <= 8 words were parsed
    words[n - 1 - k] = 0;
  }
  return words;
}

/**
 * RFC 5952 canonical text: lower case, no leading zeros, the longest run (first on ties) of two
 * or more zero words as `::`, and IPv4-mapped addresses (`::ffff:0:0/96`) with a dotted quad.
 */
export function formatIpv6(words: Uint16Array): string {
  if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0 && words[5] === 0xffff) {
    const hi = words[6]!; // an address is always eight words
    const lo = words[7]!;
    return `::ffff:${hi >>> 8}.${hi & 255}.${lo >>> 8}.${lo & 255}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out.length > 0 && !out.endsWith(':')) out += ':';
    out += words[i]!.toString(16); // i < 8
  }
  return out;
}

/** Clears the bits after `prefix` in place. */
export function maskIpv6(words: Uint16Array, prefix: number): void {
  for (let i = 0; i < 8; i++) {
    const keep = prefix - i * 16;
    if (keep >= 16) continue;
    words[i] = keep <= 0 ? 0 : words[i]! & ((0xffff << (16 - keep)) & 0xffff); // i < 8
  }
}

export function maskIpv4(n: number, prefix: number): number {
  if (prefix === 0) return 0;
  return (n & (0xffffffff << (32 - prefix))) >>> 0;
}

/** A decimal prefix length without sign or leading zeros, 0..max; -1 when invalid. */
export function parsePrefix(s: string, start: number, end: number, max: number): number {
  const len = end - start;
  if (len < 1 || len > 3) return -1;
  if (len > 1 && s.charCodeAt(start) === 48) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v <= max ? v : -1;
}
