/**
 * The MISP warninglist document (`lists/<name>/list.json`, see misp-warninglists `schema.json`):
 * `{ name, version, description, type, list[], matching_attributes[] }`. Validation reports every
 * problem with the origin (file or URL), the JSON path and the reason; a bad entry is dropped and
 * the rest of the list kept, a bad document is dropped and the other lists kept.
 */
import { safeJsonParse } from '../core/safe-json.js';
import { quoteValue } from '../core/observable.js';
import { isRecord } from '../core/guards.js';

export const MATCH_TYPES = ['string', 'substring', 'hostname', 'cidr', 'regex'] as const;
export type MatchType = (typeof MATCH_TYPES)[number];

const MATCH_TYPE_SET: ReadonlySet<unknown> = new Set(MATCH_TYPES);

/** True when `t` names one of the match types of a list. */
export function isMatchType(t: unknown): t is MatchType {
  return MATCH_TYPE_SET.has(t);
}

/** Cap on entries in one list (the largest published list, tranco 1M, has 1,000,000). */
export const MAX_LIST_ENTRIES = 2_000_000;
export const MAX_ENTRY_LENGTH = 4096;

export interface Warninglist {
  /** Short id: the folder name for `lists/<id>/list.json`, else derived from the origin. */
  id: string;
  name: string;
  version: number;
  description: string;
  type: MatchType;
  /** Entries as written (trimmed; empty ones dropped). */
  list: string[];
  /** Index in the document's `list` of each entry (for messages); absent: the same index. */
  entryIndex?: number[];
  /** MISP attribute types the list applies to; empty: all. */
  matching_attributes: string[];
  /** Where the list came from (a file path or URL). */
  origin: string;
}

export interface WarninglistProblem {
  origin: string;
  /** JSON path of the offending value (`$` for the whole document). */
  path: string;
  reason: string;
  /** `origin: at path: reason` */
  message: string;
  /** True when the whole list was dropped (not just one entry). */
  fatal: boolean;
}

export function problem(origin: string, path: string, reason: string, fatal: boolean): WarninglistProblem {
  return { origin, path, reason, fatal, message: `${origin}: at ${path}: ${reason}` };
}

export type ParseResult =
  | { ok: true; list: Warninglist; problems: WarninglistProblem[] }
  | { ok: false; problems: WarninglistProblem[] };

/** The id for a list from its origin: `…/lists/<id>/list.json` → `<id>`, else the file name without `.json`. */
export function idFromOrigin(origin: string): string {
  const parts = origin.split(/[\\/]/).filter(Boolean);
  let last = parts[parts.length - 1] ?? origin;
  if (last.includes('?')) last = last.slice(0, last.indexOf('?'));
  const parent = parts[parts.length - 2];
  if (last === 'list.json' && parent !== undefined) return parent;
  return last.replace(/\.json$/i, '') || origin;
}

/** Parses the text of a list file (JSON) and validates it. */
export function parseWarninglistText(text: string, origin: string): ParseResult {
  const r = safeJsonParse(text, { maxDepth: 8 });
  if (!r.ok) return { ok: false, problems: [problem(origin, '$', `not valid JSON (${r.message})`, true)] };
  return parseWarninglist(r.value, origin);
}

/**
 * Validates a parsed list document. Required: `name`, `type` (one of MATCH_TYPES; missing means
 * `string`, as in MISP), `list` (strings). `version` and `description` are kept when present;
 * `matching_attributes` (strings) restricts the list to those MISP attribute types.
 */
export function parseWarninglist(json: unknown, origin: string): ParseResult {
  const problems: WarninglistProblem[] = [];
  const fatal = (path: string, reason: string): ParseResult => ({
    ok: false,
    problems: [...problems, problem(origin, path, reason, true)],
  });
  if (!isRecord(json)) return fatal('$', `expected a JSON object, got ${describe(json)}`);
  const doc = json;
  if (typeof doc.name !== 'string' || doc.name.trim() === '')
    return fatal('$.name', `expected a non-empty string, got ${describe(doc.name)}`);
  let type: MatchType = 'string';
  if (Array.isArray(doc.type) && typeof doc.type[0] === 'string') doc.type = doc.type[0]; // as MISP reads it
  if (doc.type !== undefined) {
    if (!isMatchType(doc.type)) {
      return fatal(
        '$.type',
        `unknown type ${typeof doc.type === 'string' ? quoteValue(doc.type) : describe(doc.type)} (expected one of ${MATCH_TYPES.join(', ')})`,
      );
    }
    type = doc.type;
  }
  // MISP also accepts `list` as an object of value → comment
  const raw = Array.isArray(doc.list)
    ? doc.list
    : typeof doc.list === 'object' && doc.list !== null
      ? Object.keys(doc.list)
      : undefined;
  if (!raw) return fatal('$.list', `expected an array of strings, got ${describe(doc.list)}`);
  if (raw.length > MAX_LIST_ENTRIES) return fatal('$.list', `more than ${MAX_LIST_ENTRIES} entries (${raw.length})`);
  const list: string[] = [];
  const entryIndex: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const e = raw[i];
    if (typeof e !== 'string') {
      problems.push(problem(origin, `$.list[${i}]`, `expected a string, got ${describe(e)}`, false));
      continue;
    }
    const t = e.trim();
    if (t.length === 0) continue;
    if (t.length > MAX_ENTRY_LENGTH) {
      problems.push(problem(origin, `$.list[${i}]`, `entry longer than ${MAX_ENTRY_LENGTH} characters`, false));
      continue;
    }
    list.push(t);
    entryIndex.push(i);
  }
  let matching: string[] = [];
  if (doc.matching_attributes !== undefined) {
    if (!Array.isArray(doc.matching_attributes))
      return fatal('$.matching_attributes', `expected an array of strings, got ${describe(doc.matching_attributes)}`);
    doc.matching_attributes.forEach((a, i) => {
      if (typeof a === 'string') matching.push(a);
      else
        problems.push(problem(origin, `$.matching_attributes[${i}]`, `expected a string, got ${describe(a)}`, false));
    });
  }
  matching = [...new Set(matching)];
  const version = typeof doc.version === 'number' && Number.isInteger(doc.version) ? doc.version : 1;
  if (doc.version !== undefined && version !== doc.version)
    problems.push(problem(origin, '$.version', `expected an integer, got ${describe(doc.version)}`, false));
  const description = typeof doc.description === 'string' ? doc.description : '';
  return {
    ok: true,
    list: {
      id: idFromOrigin(origin),
      name: doc.name.trim(),
      version,
      description,
      type,
      list,
      entryIndex,
      matching_attributes: matching,
      origin,
    },
    problems,
  };
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${quoteValue(v)}`;
  return `${typeof v} ${String(v)}`;
}
