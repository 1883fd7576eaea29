/**
 * Comparison terms shared by the XML indicator mappers (STIX 1.x, OpenIOC): substring, prefix and
 * suffix conditions as escaped regular expressions, the lookup companion of a `contains` whose
 * content is a complete value, and full file paths split into directory and name.
 */
import { escapePatternString, extractObservables } from '../core/pattern.js';

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/g;

/** `v` as a regular expression matching exactly `v` (every metacharacter escaped). */
export function regexEscape(v: string): string {
  return v.replace(REGEX_SPECIAL, '\\$&');
}

/** A STIX string literal. */
export function lit(v: string): string {
  return `'${escapePatternString(v)}'`;
}

/** Substring-style conditions, after the source format's names are read. */
export type TextCondition = 'equals' | 'contains' | 'startswith' | 'endswith';

/**
 * The canonical value of `content` when `[path = content]` names an observable the lookup index
 * learns (an address, domain, URL, e-mail address or hash on its indexable path); undefined for
 * fragments (`evil`, `.ru`, half a hash) and other paths.
 */
export function completeValue(path: string, content: string): string | undefined {
  try {
    const obs = extractObservables(`[${path} = ${lit(content)}]`);
    return obs.length === 1 ? obs[0]?.value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A `contains` term: `path MATCHES '<escaped>'`. When the content is a complete value (see
 * completeValue) the equality is ORed in — `(path MATCHES 'evil\.com' OR path = 'evil.com')` —
 * which matches exactly what the substring test matches (a value equal to the content contains
 * it) and lets a lookup of `evil.com` find the indicator. Negated terms get no companion.
 */
export function containsTerm(path: string, content: string, negate = false): string {
  const m = `${path} ${negate ? 'NOT ' : ''}MATCHES ${lit(regexEscape(content))}`;
  if (negate) return m;
  const full = completeValue(path, content);
  return full === undefined ? m : `(${m} OR ${path} = ${lit(full)})`;
}

/** A comparison for one substring-style condition on a plain (non-path) property. */
export function textTerm(
  path: string,
  cond: TextCondition,
  content: string,
  negate = false,
  equalsValue = lit(content),
): string {
  const n = negate ? 'NOT ' : '';
  switch (cond) {
    case 'equals':
      return `${path} ${negate ? 'NOT =' : '='} ${equalsValue}`;
    case 'contains':
      return containsTerm(path, content, negate);
    case 'startswith':
      return `${path} ${n}MATCHES ${lit(`^${regexEscape(content)}`)}`;
    case 'endswith':
      return `${path} ${n}MATCHES ${lit(`${regexEscape(content)}$`)}`;
  }
}

const SEP = /[\\/]/;
const SEP_OR_END = '([\\\\/]|$)';

/**
 * A full file path compared with `cond`, as STIX 2.1 can hold it: the file's `name` and its
 * `parent_directory_ref.path` (STIX has no full-path property). `prefix` is the path to the file
 * object (`file:` or `process:image_ref.`). Split at the last separator:
 *
 * - equals `C:\Windows\x.exe` → name = `x.exe` AND directory = `C:\Windows`;
 * - contains `Windows\x.exe` → name starts with `x.exe` AND directory ends with `Windows`
 *   (the match is read as ending in the file's own name, the usual intent); contains `\x.exe`
 *   → name starts with `x.exe`; contains `\system32\` → directory contains `\system32` followed
 *   by a separator or its end; contains text without a separator → in the name OR the directory;
 * - endswith `Windows\x.exe` → name = `x.exe` AND directory ends with `Windows`;
 * - startswith `C:\Windows\` → directory is `C:\Windows` or below it; startswith `C:\Win\x`
 *   → (directory = `C:\Win` AND name starts with `x`) OR directory starts with `C:\Win\x`.
 *
 * Undefined when a negated condition would need two comparisons (NOT of a conjunction has no
 * single-observation form): the caller records the term as unmapped.
 */
export function filePathTerm(prefix: string, cond: TextCondition, value: string, negate = false): string | undefined {
  const name = `${prefix}name`;
  const dir = `${prefix}parent_directory_ref.path`;
  const cut = Math.max(value.lastIndexOf('\\'), value.lastIndexOf('/'));
  const d = cut >= 0 ? value.slice(0, cut) : '';
  const n = cut >= 0 ? value.slice(cut + 1) : value;
  const and = (parts: string[]): string | undefined => {
    const p = parts.filter((x) => x.length > 0);
    if (p.length === 0) return undefined;
    if (p.length === 1) return p[0];
    return negate ? undefined : `(${p.join(' AND ')})`;
  };
  const re = (path: string, regex: string): string => `${path} ${negate ? 'NOT ' : ''}MATCHES ${lit(regex)}`;
  if (cut < 0) {
    // no separator: a bare name (equals, endswith) or a fragment anywhere (contains, startswith)
    switch (cond) {
      case 'equals':
        return textTerm(name, 'equals', value, negate);
      case 'endswith':
        return textTerm(name, 'endswith', value, negate);
      case 'startswith':
        return re(dir, `^${regexEscape(value)}`);
      case 'contains':
        return negate ? undefined : `(${containsTerm(name, value)} OR ${containsTerm(dir, value)})`;
    }
  }
  switch (cond) {
    case 'equals':
      if (!n) return textTerm(dir, 'equals', d, negate);
      return and([textTerm(name, 'equals', n, negate), d ? textTerm(dir, 'equals', d, negate) : '']);
    case 'endswith':
      if (!n) return re(dir, `${regexEscape(d)}$`);
      return and([textTerm(name, 'equals', n, negate), d ? re(dir, `${regexEscape(d)}$`) : '']);
    case 'contains':
      if (!n) return re(dir, `${regexEscape(d)}${SEP_OR_END}`);
      return and([re(name, `^${regexEscape(n)}`), d ? re(dir, `${regexEscape(d)}$`) : '']);
    case 'startswith': {
      if (!n) return re(dir, `^${regexEscape(d)}${SEP_OR_END}`);
      if (negate) return undefined;
      const here = d
        ? `(${dir} = ${lit(d)} AND ${name} MATCHES ${lit(`^${regexEscape(n)}`)})`
        : `${name} MATCHES ${lit(`^${regexEscape(n)}`)}`;
      return `(${here} OR ${dir} MATCHES ${lit(`^${regexEscape(d)}[\\\\/]${regexEscape(n)}`)})`;
    }
  }
}

/** Whether a value holds a path separator. */
export function hasPathSeparator(v: string): boolean {
  return SEP.test(v);
}
