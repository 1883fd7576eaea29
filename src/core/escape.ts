/**
 * Characters that must not reach a log line or an error message raw when they come from a feed:
 * C0 and C1 controls (a newline would forge a log line), the Unicode line and paragraph
 * separators, bidi embedding/override/isolate marks (they reorder what a reader sees), and the
 * backslash (so an escape in the input cannot pass for ours).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this expression's purpose
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\\]/g;

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

/** Escapes untrusted text for a message or log line; printable text, including non-ASCII, is kept. */
export function escapeText(s: string): string {
  return s.replace(UNSAFE, (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
