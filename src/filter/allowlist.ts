/**
 * The publish allowlist: values that are never published to sinks, written in the configuration
 * with the same five match types as warninglists. An entry is either `{ type, value }` or a plain
 * value typed automatically: an IP or CIDR → `cidr` (containment), a domain → `hostname` (the
 * domain and its subdomains, URL hosts and e-mail domains on it), a URL, e-mail address or hash →
 * `string` (the canonical value). `substring` and `regex` must be written out; regexes may be
 * bare (`^abuse@`) or PCRE-style (`/^abuse@/i`) and run in linear time like warninglist regexes.
 */
import { detectObservable, quoteValue } from '../core/observable.js';
import { isMatchType, MATCH_TYPES, type MatchType, type Warninglist } from './format.js';
import { isRecord } from '../core/guards.js';
import { cidrProblem } from '../core/cidr.js';
import { vetPattern } from './regex-nfa.js';
import { canonicalHost, WarninglistMatcher } from './matcher.js';

export const PUBLISH_ALLOWLIST_NAME = 'publish_allowlist';

export type AllowlistEntry = string | { type: MatchType; value: string; comment?: string };

export interface AllowlistIssue {
  /** Configuration path, e.g. `publish_allowlist[3].value`. */
  path: string;
  message: string;
}

/** Checks one entry; returns its match type and value as compiled, or the problem. */
export function checkAllowlistEntry(
  e: unknown,
  path: string,
): { ok: true; type: MatchType; value: string } | { ok: false; issue: AllowlistIssue } {
  const fail = (p: string, message: string) => ({ ok: false as const, issue: { path: p, message } });
  if (typeof e === 'string') {
    const r = detectObservable(e);
    if (!r.ok) return fail(path, `${r.message} (write {type, value} for a substring or regex entry)`);
    const o = r.observable;
    if (o.type === 'ipv4-addr' || o.type === 'ipv6-addr') return { ok: true, type: 'cidr', value: o.value };
    if (o.type === 'domain-name') return { ok: true, type: 'hostname', value: o.value };
    return { ok: true, type: 'string', value: o.value };
  }
  if (!isRecord(e)) return fail(path, 'must be a value or a mapping {type, value}');
  const { type, value, comment, ...rest } = e;
  const extra = Object.keys(rest);
  if (extra.length) return fail(`${path}.${extra[0]}`, 'unknown key (expected type, value, comment)');
  if (comment !== undefined && typeof comment !== 'string') return fail(`${path}.comment`, 'must be a string');
  if (!isMatchType(type)) return fail(`${path}.type`, `must be one of ${MATCH_TYPES.join(', ')}`);
  if (typeof value !== 'string' || value.trim() === '') return fail(`${path}.value`, 'must be a non-empty string');
  const v = value.trim();
  switch (type) {
    case 'cidr':
      {
        const why = cidrProblem(v);
        if (why) return fail(`${path}.value`, `invalid CIDR or IP address ${quoteValue(v)}: ${why}`);
      }
      break;
    case 'regex': {
      const why = vetPattern(v, true);
      if (why) return fail(`${path}.value`, `regex refused: ${why}`);
      break;
    }
    case 'hostname':
      if (canonicalHost(v) === '') return fail(`${path}.value`, 'empty host name');
      break;
    case 'string': {
      // compared with canonical values: store the canonical form when the value is an observable
      const r = detectObservable(v);
      return { ok: true, type: 'string', value: r.ok ? r.observable.value : v };
    }
    case 'substring':
      break;
  }
  return { ok: true, type, value: v };
}

/** Compiles allowlist entries into a matcher (all types apply to every observable type). Bad entries are skipped and reported. */
export function compileAllowlist(
  entries: readonly unknown[],
  path = PUBLISH_ALLOWLIST_NAME,
  name = PUBLISH_ALLOWLIST_NAME,
): { matcher: WarninglistMatcher; issues: AllowlistIssue[] } {
  const byType = new Map<MatchType, string[]>();
  const issues: AllowlistIssue[] = [];
  for (const [i, e] of entries.entries()) {
    const r = checkAllowlistEntry(e, `${path}[${i}]`);
    if (!r.ok) {
      issues.push(r.issue);
      continue;
    }
    const values = byType.get(r.type) ?? [];
    byType.set(r.type, values);
    values.push(r.value);
  }
  const lists: Warninglist[] = [...byType].map(([type, list]) => ({
    id: `${name}:${type}`,
    name,
    version: 1,
    description: 'configured publish allowlist',
    type,
    list,
    matching_attributes: [],
    origin: path,
  }));
  const { matcher, problems } = WarninglistMatcher.compile(lists, { allowBareRegex: true, publicSuffixRule: false });
  // entries were vetted above; anything left is reported against the list as a whole
  for (const p of problems) issues.push({ path, message: p.reason });
  return { matcher, issues };
}
