/**
 * Text clean-up and host-name rules shared by the observable normalisers (domain, URL host,
 * e-mail domain). Linear scanners, no regexes.
 */
import { domainToASCII } from 'node:url';

export type Clean = { ok: true; text: string } | { ok: false };

/**
 * Rejects C0/C1 control characters, DEL, bidi controls (U+200E/F, U+202A-U+202E, U+2066-U+2069)
 * and unpaired UTF-16 surrogates; removes zero-width characters (U+200B-U+200D, U+FEFF), which
 * are invisible and only ever used to make one value look like another; and NFC-normalises.
 * ASCII input without controls is returned as is (the common case, no allocation).
 */
export function cleanText(s: string): Clean {
  let nonAscii = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return { ok: false };
    if (c >= 0x80) nonAscii = true;
  }
  if (!nonAscii) return { ok: true, text: s };
  let zeroWidth = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c <= 0x9f) return { ok: false }; // C1 controls
    if (c >= 0xd800 && c <= 0xdfff) {
      // a surrogate must be a high one followed by a low one
      const d = s.charCodeAt(i + 1);
      if (c >= 0xdc00 || !(d >= 0xdc00 && d <= 0xdfff)) return { ok: false };
      i++;
      continue;
    }
    if (c === 0x200e || c === 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
      return { ok: false };
    if ((c >= 0x200b && c <= 0x200d) || c === 0xfeff) zeroWidth = true;
  }
  const t = zeroWidth ? s.replace(ZERO_WIDTH_RE, '') : s;
  return { ok: true, text: t.normalize('NFC') };
}

const ZERO_WIDTH_RE = /[\u200B-\u200D\uFEFF]/g;

/** DNS name limits (RFC 1035 §2.3.4). */
export const MAX_DOMAIN_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;

/**
 * Canonical host name: one trailing dot removed, lower case, IDNA (UTS #46, via WHATWG
 * `domainToASCII`) to punycode, then every label 1-63 characters of `[a-z0-9_-]` and the whole
 * name at most 253. Leading/trailing hyphens are accepted (they occur in real feeds).
 * With `fqdn`, at least two labels and a TLD that is neither all digits nor contains `_`.
 * Returns undefined when the name is not valid.
 */
export function normaliseHostName(s: string, fqdn: boolean): string | undefined {
  let end = s.length;
  if (end > 0 && s.charCodeAt(end - 1) === 46) end--;
  if (end === 0 || end > MAX_DOMAIN_LENGTH * 4) return undefined;
  let upper = false;
  let nonAscii = false;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) nonAscii = true;
    else if (c >= 65 && c <= 90) upper = true;
  }
  let name = end === s.length ? s : s.slice(0, end);
  if (nonAscii) {
    name = domainToASCII(name);
    if (name.length > 0 && name.charCodeAt(name.length - 1) === 46) name = name.slice(0, -1);
    if (name.length === 0) return undefined;
  } else if (upper) {
    name = name.toLowerCase();
  }
  return validHostName(name, fqdn) ? name : undefined;
}

function validHostName(name: string, fqdn: boolean): boolean {
  const n = name.length;
  if (n === 0 || n > MAX_DOMAIN_LENGTH) return false;
  let labelStart = 0;
  let labels = 0;
  let tldNumeric = true;
  let tldUnderscore = false;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? name.charCodeAt(i) : 46;
    if (c === 46) {
      const len = i - labelStart;
      if (len === 0 || len > MAX_LABEL_LENGTH) return false;
      labels++;
      labelStart = i + 1;
      if (i < n) {
        tldNumeric = true;
        tldUnderscore = false;
      }
      continue;
    }
    if (c >= 97 && c <= 122) tldNumeric = false;
    else if (c === 45) tldNumeric = false;
    else if (c === 95) {
      tldNumeric = false;
      tldUnderscore = true;
    } else if (c < 48 || c > 57) return false;
  }
  if (fqdn) return labels >= 2 && !tldNumeric && !tldUnderscore;
  return true;
}
