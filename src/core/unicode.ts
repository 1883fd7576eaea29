/** Unpaired UTF-16 surrogates (a high one not followed by a low one, or a low one alone). */
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The string with every unpaired surrogate replaced by U+FFFD (as ES2024 `toWellFormed`), so that
 * `encodeURIComponent`, `TextEncoder` and JSON consumers never meet ill-formed UTF-16 from a feed.
 * Returns the input itself when it is well-formed.
 */
export function wellFormed(s: string): string {
  LONE_SURROGATE_RE.lastIndex = 0;
  return LONE_SURROGATE_RE.test(s) ? s.replace(LONE_SURROGATE_RE, '\uFFFD') : s;
}
