/**
 * URL normalisation (RFC 3986 §6.2.2 syntax-based, plus scheme-based default ports), as one
 * linear hand-written scanner.
 *
 * Decisions:
 * - Dot segments (`.`/`..`) are NOT resolved. WHATWG parsers resolve them, which silently turns
 *   `http://a/x/../admin` into `http://a/admin`; a feed's URL is evidence and servers disagree on
 *   dot handling, so the path is kept as given (only its percent-encoding is normalised).
 * - A value without `scheme://` is read as `http://…` (`example.com/x`, `//example.com/x`);
 *   `scheme:` not followed by `//` or a port (`mailto:x`, `javascript:x`) is rejected.
 * - A host whose last label is a number (`999.1.1.1`, `6`, `0x7f.1`, `2130706433`) is what a
 *   WHATWG parser reads as an IPv4 address: it must be a strict dotted quad, otherwise the URL is
 *   rejected (it names neither an address nor a domain).
 * - Percent-encoded hosts and `\` in the authority are rejected (classic filter-evasion forms).
 */
import { parseIpv4Range, parseIpv6Range, formatIpv6 } from './ip-address.js';
import { normaliseHostName } from './domain-name.js';
import { hexVal } from './hex.js';

export const MAX_URL_LENGTH = 2048;

export interface UrlProblem {
  problem: string;
}

const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443', ftp: '21', ws: '80', wss: '443' };

// Character classes for percent-encoding normalisation: 1 keep, 2 '%', 0 encode.
const PATH = new Uint8Array(128);
const QUERY = new Uint8Array(128);
const USERINFO = new Uint8Array(128);
const UNRESERVED = new Uint8Array(128);
{
  const unreserved = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
  const subDelims = "!$&'()*+,;=";
  for (const ch of `${unreserved + subDelims}:@/`) PATH[ch.charCodeAt(0)] = 1;
  for (const ch of `${unreserved + subDelims}:@/?`) QUERY[ch.charCodeAt(0)] = 1;
  for (const ch of `${unreserved + subDelims}:`) USERINFO[ch.charCodeAt(0)] = 1;
  for (const ch of unreserved) UNRESERVED[ch.charCodeAt(0)] = 1;
  PATH[37] = QUERY[37] = USERINFO[37] = 2;
}
const HEXU = '0123456789ABCDEF';

/**
 * Normalises the percent-encoding of s[start, end): `%xx` upper-cased, `%xx` of an unreserved
 * character decoded, a stray `%` encoded as `%25`, and characters outside the class
 * (space, `"`, `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`, `}`, `[`, `]`, non-ASCII) encoded as UTF-8.
 * Returns the slice itself when nothing changes.
 */
function normaliseEncoding(s: string, start: number, end: number, cls: Uint8Array): string {
  let i = start;
  // fast path: find the first character that needs work
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || cls[c] !== 1) {
      if (c === 37) {
        const h1 = hexVal(s.charCodeAt(i + 1));
        const h2 = hexVal(s.charCodeAt(i + 2));
        if (i + 2 < end && h1 >= 0 && h2 >= 0) {
          const v = h1 * 16 + h2;
          const c1 = s.charCodeAt(i + 1);
          const c2 = s.charCodeAt(i + 2);
          if (UNRESERVED[v] !== 1 && !(c1 >= 97 && c1 <= 102) && !(c2 >= 97 && c2 <= 102)) {
            i += 2; // already canonical
            continue;
          }
        }
      }
      break;
    }
  }
  if (i === end) return s.slice(start, end);
  let out = s.slice(start, i);
  let runStart = i;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 128 && cls[c] === 1) continue;
    out += s.slice(runStart, i);
    if (c === 37) {
      const h1 = i + 2 < end ? hexVal(s.charCodeAt(i + 1)) : -1;
      const h2 = i + 2 < end ? hexVal(s.charCodeAt(i + 2)) : -1;
      if (h1 >= 0 && h2 >= 0) {
        const v = h1 * 16 + h2;
        out += UNRESERVED[v] === 1 ? String.fromCharCode(v) : `%${HEXU[h1]}${HEXU[h2]}`;
        i += 2;
      } else {
        out += '%25';
      }
    } else if (c < 128) {
      out += `%${HEXU[c >> 4]}${HEXU[c & 15]}`;
    } else {
      // a whole code point (input is well-formed UTF-16, checked by cleanText)
      const cp = s.codePointAt(i) as number;
      const len = cp > 0xffff ? 2 : 1;
      out += encodeURIComponent(s.slice(i, i + len));
      i += len - 1;
    }
    runStart = i + 1;
  }
  return out + s.slice(runStart, end);
}

/**
 * WHATWG "ends in a number": the last label (a trailing dot ignored) is all digits, or `0x`
 * followed by hex digits. Input is a canonical host name (lower case, no trailing dot).
 */
function endsInNumber(h: string): boolean {
  const start = h.lastIndexOf('.') + 1;
  if (start === h.length) return false;
  let i = start;
  let hex = false;
  if (h.charCodeAt(i) === 48 && h.charCodeAt(i + 1) === 120) {
    hex = true;
    i += 2;
  }
  for (; i < h.length; i++) {
    const c = h.charCodeAt(i);
    if (c >= 48 && c <= 57) continue;
    if (hex && c >= 97 && c <= 102) continue;
    return false;
  }
  return true;
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isSchemeChar(c: number): boolean {
  return isAlpha(c) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46;
}

/** The canonical form of a URL, or the problem. Input is refanged, cleaned and within MAX_URL_LENGTH. */
export function normaliseUrl(s: string): string | UrlProblem {
  const n = s.length;
  let scheme = 'http';
  let p = 0;
  if (n > 0 && isAlpha(s.charCodeAt(0))) {
    let i = 1;
    while (i < n && isSchemeChar(s.charCodeAt(i))) i++;
    if (i < n && s.charCodeAt(i) === 58) {
      if (s.charCodeAt(i + 1) === 47 && s.charCodeAt(i + 2) === 47) {
        scheme = s.slice(0, i);
        for (let k = 0; k < i; k++) {
          const c = s.charCodeAt(k);
          if (c >= 65 && c <= 90) {
            scheme = scheme.toLowerCase();
            break;
          }
        }
        p = i + 3;
      } else {
        const c = s.charCodeAt(i + 1);
        if (!(c >= 48 && c <= 57)) return { problem: 'has no authority (expected scheme://host)' };
      }
    }
  }
  if (p === 0 && s.charCodeAt(0) === 47 && s.charCodeAt(1) === 47) p = 2;
  // authority
  const authStart = p;
  let at = -1;
  while (p < n) {
    const c = s.charCodeAt(p);
    if (c === 47 || c === 63 || c === 35) break;
    if (c === 64) at = p;
    else if (c === 92) return { problem: 'has a backslash in its authority' };
    p++;
  }
  const authEnd = p;
  let userinfo = '';
  let hostStart = authStart;
  if (at >= 0) {
    userinfo = `${normaliseEncoding(s, authStart, at, USERINFO)}@`;
    hostStart = at + 1;
  }
  let host: string;
  let portStart = -1;
  if (s.charCodeAt(hostStart) === 91) {
    const close = s.indexOf(']', hostStart);
    if (close < 0 || close >= authEnd) return { problem: 'has an unclosed IPv6 host' };
    const words = parseIpv6Range(s, hostStart + 1, close);
    if (!words) return { problem: 'has an invalid IPv6 host' };
    host = `[${formatIpv6(words)}]`;
    if (close + 1 < authEnd) {
      if (s.charCodeAt(close + 1) !== 58) return { problem: 'has characters after its IPv6 host' };
      portStart = close + 2;
    }
  } else {
    let hostEnd = authEnd;
    const colon = s.lastIndexOf(':', authEnd - 1);
    if (colon >= hostStart) {
      hostEnd = colon;
      portStart = colon + 1;
    }
    if (hostEnd === hostStart) {
      if (scheme !== 'file') return { problem: 'has an empty host' };
      host = '';
    } else {
      const v4 = parseIpv4Range(s, hostStart, hostEnd);
      if (v4 !== undefined) {
        host = s.slice(hostStart, hostEnd);
      } else {
        const h = normaliseHostName(s.slice(hostStart, hostEnd), false);
        if (h === undefined) return { problem: 'has an invalid host' };
        if (endsInNumber(h)) {
          // full-width digits become ASCII under IDNA: such a host is an address or nothing
          if (parseIpv4Range(h, 0, h.length) === undefined)
            return { problem: 'has a host that is neither an IPv4 address nor a domain name' };
        }
        host = h;
      }
    }
  }
  let port = '';
  if (portStart >= 0 && portStart < authEnd) {
    let v = 0;
    for (let i = portStart; i < authEnd; i++) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) return { problem: 'has an invalid port' };
      v = v * 10 + (c - 48);
      if (v > 65535) return { problem: 'has a port above 65535' };
    }
    const ps = String(v);
    if (DEFAULT_PORTS[scheme] !== ps) port = `:${ps}`;
  }
  // path, query; the fragment is dropped
  let pathEnd = p;
  while (pathEnd < n) {
    const c = s.charCodeAt(pathEnd);
    if (c === 63 || c === 35) break;
    pathEnd++;
  }
  const path = pathEnd > p ? normaliseEncoding(s, p, pathEnd, PATH) : '/';
  let query = '';
  if (pathEnd < n && s.charCodeAt(pathEnd) === 63) {
    let qEnd = s.indexOf('#', pathEnd);
    if (qEnd < 0) qEnd = n;
    query = `?${normaliseEncoding(s, pathEnd + 1, qEnd, QUERY)}`;
  }
  return `${scheme}://${userinfo}${host}${port}${path}${query}`;
}
