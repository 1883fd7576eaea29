/**
 * Observable normalisation: refang, validate and canonicalise IOC values so that every spelling
 * of one value (case, defanging, IDN, IPv6 compression, URL encoding, CIDR host bits) becomes one
 * canonical value, and therefore one SCO id and one indicator.
 *
 * All scanners are linear (hand-written loops; the only regexes are literal alternations with no
 * quantifiers over groups), so hostile input cannot cause super-linear time.
 * Text rules: NFC; bidi controls, C0/C1 controls and unpaired surrogates are rejected as
 * `control_chars`; zero-width characters (U+200B-U+200D, U+FEFF) are removed before IDNA.
 */
import type { Observable, ObservableType, HashAlgorithm } from './stix.js';
import { cidrBits, cidrValue, readCidr } from './cidr.js';
import { cleanText, normaliseHostName, MAX_DOMAIN_LENGTH } from './domain-name.js';
import { normaliseUrl, MAX_URL_LENGTH } from './url-normalise.js';
import { isHex } from './hex.js';

export { parseIpv4, parseIpv6, formatIpv6, formatIpv4 } from './ip-address.js';

export type NormaliseResult = { ok: true; observable: Observable } | { ok: false; reason: string; message: string };

/** Bounded rejection reasons (used as metric labels). */
export type RejectReason =
  | 'empty'
  | 'too_long'
  | 'control_chars'
  | 'invalid_ipv4'
  | 'invalid_ipv6'
  | 'invalid_cidr'
  | 'cidr_too_wide'
  | 'invalid_domain'
  | 'invalid_url'
  | 'invalid_email'
  | 'invalid_hash'
  | 'unknown_type';

export const MAX_EMAIL_LENGTH = 320;
/** Anything longer than this is rejected before refanging or scanning. */
const MAX_RAW_LENGTH = MAX_URL_LENGTH * 8;

// ---------------------------------------------------------------------------------------------
// refang

const DEFANG_RE = /\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}|\[:\/\/\]|\[:\]|\[@\]|\[at\]|\(at\)|\[\/\]/gi;

function defangReplacement(m: string): string {
  switch (m.length) {
    case 3: {
      const c = m.charCodeAt(1);
      return c === 46 ? '.' : c === 58 ? ':' : c === 64 ? '@' : '/';
    }
    case 4:
      return '@'; // [at] (at)
    case 5:
      return m.charCodeAt(1) === 58 ? '://' : '.'; // [://] or [dot] (dot) {dot}
    default:
      return m;
  }
}

function isQuote(c: number): boolean {
  return c === 34 || c === 39 || c === 96;
}

/**
 * Undoes common defanging: `hxxp`/`hxxps`/`fxp` schemes; `[.]` `(.)` `{.}` `[dot]` `(dot)` `{dot}` → `.`;
 * `[:]` → `:`; `[://]` → `://`; `[@]` `[at]` `(at)` → `@`; `[/]` → `/`. Strips surrounding
 * whitespace and matching surrounding quotes (`"…"`, `'…'`, `` `…` ``).
 */
export function refang(raw: string): string {
  let s = raw.trim();
  while (s.length >= 2 && isQuote(s.charCodeAt(0)) && s.charCodeAt(s.length - 1) === s.charCodeAt(0))
    s = s.slice(1, -1).trim();
  if (s.indexOf('[') >= 0 || s.indexOf('(') >= 0 || s.indexOf('{') >= 0) s = s.replace(DEFANG_RE, defangReplacement);
  const c0 = s.charCodeAt(0) | 0x20;
  if (c0 === 0x68 /* h */ || c0 === 0x66 /* f */) {
    const c1 = s.charCodeAt(1) | 0x20;
    if (c0 === 0x68 && c1 === 0x78 && (s.charCodeAt(2) | 0x20) === 0x78 && (s.charCodeAt(3) | 0x20) === 0x70) {
      // hxxp / hxxps
      const secure = (s.charCodeAt(4) | 0x20) === 0x73;
      const colon = secure ? 5 : 4;
      if (s.charCodeAt(colon) === 58) s = (secure ? 'https' : 'http') + s.slice(colon);
    } else if (c0 === 0x66 && c1 === 0x78 && (s.charCodeAt(2) | 0x20) === 0x70) {
      const secure = (s.charCodeAt(3) | 0x20) === 0x73;
      const colon = secure ? 4 : 3;
      if (s.charCodeAt(colon) === 58) s = (secure ? 'ftps' : 'ftp') + s.slice(colon);
    }
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// messages

/** The value for a message: at most 80 characters, everything but printable ASCII escaped. */
export function quoteValue(v: string): string {
  const cut = v.length > 80;
  const t = cut ? v.slice(0, 80) : v;
  let out = '"';
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 34 || c === 92) out += `\\${t[i]}`;
    else if (c >= 0x20 && c < 0x7f) out += t[i];
    else out += `\\u${c.toString(16).padStart(4, '0')}`;
  }
  return out + (cut ? `…" (${v.length} characters)` : '"');
}

function fail(reason: RejectReason, what: string, raw: string): NormaliseResult {
  return { ok: false, reason, message: `${what}: ${quoteValue(raw)}` };
}

function ok(type: ObservableType, value: string): NormaliseResult {
  return { ok: true, observable: { type, value } };
}

// ---------------------------------------------------------------------------------------------
// per-type normalisers over refanged, cleaned text

const ipv4 = (s: string, raw: string): NormaliseResult => ipRange(s, raw, 4);
const ipv6 = (s: string, raw: string): NormaliseResult => ipRange(s, raw, 6);

/**
 * An address or range by the rules of src/core/cidr.ts (an IPv4-mapped IPv6 value becomes IPv4);
 * `family` is the family the text was taken for. A full-length range is its address; /0 is refused.
 */
function ipRange(s: string, raw: string, family: 4 | 6): NormaliseResult {
  const name = `IPv${family}`;
  const slash = s.includes('/');
  const r = readCidr(s);
  const otherFamily = r.ok && (family === 4 ? r.cidr.v !== 4 : r.cidr.v === 4 && !s.includes(':'));
  if (!r.ok && r.part === 'prefix') return fail('invalid_cidr', `invalid ${name} CIDR prefix`, raw);
  if (!r.ok || otherFamily)
    return fail(slash ? 'invalid_cidr' : `invalid_ipv${family}`, `invalid ${name} ${slash ? 'CIDR' : 'address'}`, raw);
  const c = r.cidr;
  if (c.len === 0) return fail('cidr_too_wide', `a /0 range covers every IPv${c.v} address`, raw);
  const type = c.v === 4 ? 'ipv4-addr' : 'ipv6-addr';
  if (c.len === cidrBits(c)) return ok(type, cidrValue(c));
  return { ok: true, observable: { type, value: cidrValue(c), cidr: true } };
}

function domain(s: string, raw: string): NormaliseResult {
  if (s.length > MAX_DOMAIN_LENGTH + 1)
    return fail('too_long', `domain name longer than ${MAX_DOMAIN_LENGTH} characters`, raw);
  const d = normaliseHostName(s, true);
  if (d === undefined) return fail('invalid_domain', 'invalid domain name', raw);
  return ok('domain-name', d);
}

function url(s: string, raw: string): NormaliseResult {
  const u = normaliseUrl(s);
  if (typeof u !== 'string') return fail('invalid_url', `invalid URL (${u.problem})`, raw);
  if (u.length > MAX_URL_LENGTH)
    return fail('too_long', `URL longer than ${MAX_URL_LENGTH} characters once normalised`, raw);
  return ok('url', u);
}

const EMAIL_LOCAL = new Uint8Array(128);
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~.-")
  EMAIL_LOCAL[ch.charCodeAt(0)] = 1;

function email(s: string, raw: string): NormaliseResult {
  if (s.length > MAX_EMAIL_LENGTH)
    return fail('too_long', `e-mail address longer than ${MAX_EMAIL_LENGTH} characters`, raw);
  const at = s.lastIndexOf('@');
  if (at < 1 || at > 64) return fail('invalid_email', 'invalid e-mail address', raw);
  for (let i = 0; i < at; i++) {
    const c = s.charCodeAt(i);
    if (c < 128 && EMAIL_LOCAL[c] !== 1) return fail('invalid_email', 'invalid e-mail address', raw);
  }
  const d = normaliseHostName(s.slice(at + 1), true);
  if (d === undefined) return fail('invalid_email', 'invalid e-mail address domain', raw);
  return ok('email-addr', s.slice(0, at + 1).toLowerCase() + d);
}

/** The algorithm a hex digest of this length comes from: 32 MD5, 40 SHA-1, 64 SHA-256, 128 SHA-512. */
export function detectHashAlgorithm(hex: string): HashAlgorithm | undefined {
  switch (hex.length) {
    case 32:
      return isHex(hex) ? 'MD5' : undefined;
    case 40:
      return isHex(hex) ? 'SHA-1' : undefined;
    case 64:
      return isHex(hex) ? 'SHA-256' : undefined;
    case 128:
      return isHex(hex) ? 'SHA-512' : undefined;
    default:
      return undefined;
  }
}

/** `AB:CD:…` fingerprint notation (certificates) → plain hex; otherwise the input. */
function stripFingerprintColons(s: string): string {
  if (s.length < 47 || s.charCodeAt(2) !== 58) return s;
  for (let i = 2; i < s.length; i += 3) if (s.charCodeAt(i) !== 58) return s;
  return s.replace(/:/g, '');
}

/**
 * A hash value as a `file` or `x509-certificate` observable. With `expected`, the digest length
 * must match that algorithm.
 */
export function normaliseHash(
  type: 'file' | 'x509-certificate',
  raw: string,
  expected?: HashAlgorithm,
): NormaliseResult {
  let s = refang(raw);
  if (s.length === 0) return fail('empty', 'empty hash', raw);
  if (type === 'x509-certificate') s = stripFingerprintColons(s);
  const alg = detectHashAlgorithm(s);
  if (alg === undefined || (expected !== undefined && alg !== expected)) {
    return fail(
      'invalid_hash',
      expected ? `invalid ${expected} hash` : 'invalid hash (expected 32, 40, 64 or 128 hex digits)',
      raw,
    );
  }
  return { ok: true, observable: { type, value: s.toLowerCase(), hash: alg } };
}

// ---------------------------------------------------------------------------------------------
// entry points

function prepare(raw: string): { ok: true; text: string } | { ok: false; result: NormaliseResult } {
  if (raw.length > MAX_RAW_LENGTH)
    return { ok: false, result: fail('too_long', `value longer than ${MAX_RAW_LENGTH} characters`, raw) };
  const s = refang(raw);
  if (s.length === 0) return { ok: false, result: fail('empty', 'empty value', raw) };
  if (s.length > MAX_URL_LENGTH)
    return { ok: false, result: fail('too_long', `value longer than ${MAX_URL_LENGTH} characters`, raw) };
  const c = cleanText(s);
  if (!c.ok)
    return {
      ok: false,
      result: fail('control_chars', 'value contains control, bidi or invalid UTF-16 characters', raw),
    };
  if (c.text.length === 0) return { ok: false, result: fail('empty', 'empty value', raw) };
  return c;
}

/** Normalises a value of a known type (refangs first). */
export function normaliseObservable(type: ObservableType, raw: string): NormaliseResult {
  if (type === 'file' || type === 'x509-certificate') {
    if (raw.length > MAX_RAW_LENGTH) return fail('too_long', `value longer than ${MAX_RAW_LENGTH} characters`, raw);
    return normaliseHash(type, raw);
  }
  const p = prepare(raw);
  if (!p.ok) return p.result;
  const s = p.text;
  switch (type) {
    case 'ipv4-addr':
      return ipv4(s, raw);
    case 'ipv6-addr':
      return ipv6(s, raw);
    case 'domain-name':
      return domain(s, raw);
    case 'url':
      return url(s, raw);
    case 'email-addr':
      return email(s, raw);
    default:
      return fail('unknown_type', `unknown observable type ${quoteValue(String(type))}`, raw);
  }
}

/**
 * Detects the type of a value and normalises it: `scheme://` → URL; 32/40/64/128 hex digits →
 * file hash; `@` → e-mail; `:` → IPv6 (or IPv6 CIDR); digits, dots and `/` only → IPv4 (or
 * CIDR); a name with a `/` → URL without scheme (read as http); otherwise a domain name.
 */
export function detectObservable(raw: string): NormaliseResult {
  const p = prepare(raw);
  if (!p.ok) return p.result;
  const s = p.text;
  const c0 = s.charCodeAt(0);
  let digitsDotsSlash = true;
  let colons = 0;
  let hasAt = false;
  let hasSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 58) {
      colons++;
      if (s.charCodeAt(i + 1) === 47 && s.charCodeAt(i + 2) === 47) return url(s, raw);
      digitsDotsSlash = false;
    } else if (c === 64) {
      hasAt = true;
      digitsDotsSlash = false;
    } else if (c === 47) {
      hasSlash = true;
    } else if (!((c >= 48 && c <= 57) || c === 46)) {
      digitsDotsSlash = false;
    }
  }
  if (digitsDotsSlash && c0 >= 48 && c0 <= 57) return ipv4(s, raw);
  if (colons === 0 && !hasAt && !hasSlash) {
    const alg = detectHashAlgorithm(s);
    if (alg !== undefined) return { ok: true, observable: { type: 'file', value: s.toLowerCase(), hash: alg } };
  }
  if (hasAt && !hasSlash) return email(s, raw);
  if (colons >= 2) return ipv6(s, raw);
  if (hasSlash && colons === 0) return url(s, raw);
  if (colons === 1 || hasAt)
    return fail('unknown_type', 'value is not an IP address, CIDR, domain, URL, e-mail address or hash', raw);
  return domain(s, raw);
}
