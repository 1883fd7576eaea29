import { errorMessage } from '../core/errors.js';
/**
 * MISP warninglists: loading (a directory in the misp-warninglists layout, single files, or
 * documents fetched elsewhere) and the compiled matcher. A bad file or entry is reported with its
 * origin, JSON path and reason and never stops the other lists from loading.
 */
import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  parseWarninglist,
  parseWarninglistText,
  problem,
  type Warninglist,
  type WarninglistProblem,
} from './format.js';
import { WarninglistMatcher, type CompileOptions } from './matcher.js';
import { errorCode } from '../core/guards.js';

export { parseWarninglist, parseWarninglistText, MATCH_TYPES } from './format.js';
export type { Warninglist, WarninglistProblem, MatchType, ParseResult } from './format.js';
export { WarninglistMatcher } from './matcher.js';
export type { WarninglistHit, CompiledListInfo, CompileOptions } from './matcher.js';

/** Cap on one list file (tranco's top 1M, the largest published list, is ~20 MB). */
export const MAX_LIST_FILE_BYTES = 64 * 1024 * 1024;
const MAX_DEPTH = 6;

export interface LoadResult {
  lists: Warninglist[];
  problems: WarninglistProblem[];
}

/**
 * Finds warninglist files under `path`: every `list.json` below it (the misp-warninglists layout
 * `lists/<id>/list.json`, so the repository root works too), or `path` itself when it is a file.
 * Symbolic links are not followed. Sorted, so that the load order is stable.
 */
export async function findListFiles(path: string): Promise<{ files: string[]; problems: WarninglistProblem[] }> {
  const files: string[] = [];
  const problems: WarninglistProblem[] = [];
  let st: Stats;
  try {
    st = await lstat(path);
  } catch (e) {
    return {
      files,
      problems: [problem(path, '$', `cannot read: ${errorCode(e) ?? errorMessage(e)}`, true)],
    };
  }
  if (st.isFile()) return { files: [path], problems };
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      problems.push(problem(dir, '$', `cannot read directory: ${errorCode(e) ?? errorMessage(e)}`, true));
      return;
    }
    for (const d of entries) {
      if (d.name.startsWith('.')) continue;
      const p = join(dir, d.name);
      if (d.isDirectory() && depth < MAX_DEPTH) await walk(p, depth + 1);
      else if (d.isFile() && d.name === 'list.json') files.push(p);
    }
  };
  await walk(path, 0);
  if (files.length === 0 && problems.length === 0)
    problems.push(
      problem(
        path,
        '$',
        'no list.json file found (expected the misp-warninglists layout lists/<name>/list.json)',
        true,
      ),
    );
  return { files: files.sort(), problems };
}

/** Reads and validates one list file. */
export async function loadWarninglistFile(file: string): Promise<LoadResult> {
  try {
    const st = await lstat(file);
    if (st.size > MAX_LIST_FILE_BYTES)
      return {
        lists: [],
        problems: [problem(file, '$', `file larger than ${MAX_LIST_FILE_BYTES} bytes (${st.size})`, true)],
      };
    const r = parseWarninglistText(await readFile(file, 'utf8'), file);
    return r.ok ? { lists: [r.list], problems: r.problems } : { lists: [], problems: r.problems };
  } catch (e) {
    return {
      lists: [],
      problems: [problem(file, '$', `cannot read: ${errorCode(e) ?? errorMessage(e)}`, true)],
    };
  }
}

/** Loads every list under the given directories or files. */
export async function loadWarninglistPaths(paths: readonly string[]): Promise<LoadResult> {
  const out: LoadResult = { lists: [], problems: [] };
  for (const path of paths) {
    const found = await findListFiles(path);
    out.problems.push(...found.problems);
    for (const f of found.files) {
      const r = await loadWarninglistFile(f);
      out.lists.push(...r.lists);
      out.problems.push(...r.problems);
    }
  }
  return out;
}

/** Validates documents parsed elsewhere (e.g. fetched from URLs); `origin` names each in messages. */
export function loadWarninglistDocs(docs: readonly { json: unknown; origin: string }[]): LoadResult {
  const out: LoadResult = { lists: [], problems: [] };
  for (const d of docs) {
    const r = parseWarninglist(d.json, d.origin);
    if (r.ok) out.lists.push(r.list);
    out.problems.push(...r.problems);
  }
  return out;
}

/**
 * Keeps one list per name, as MISP does: the highest version, the first loaded on a tie. The
 * lists dropped are reported.
 */
export function dedupeByName(lists: readonly Warninglist[]): LoadResult {
  const byName = new Map<string, Warninglist>();
  const problems: WarninglistProblem[] = [];
  for (const l of lists) {
    const prev = byName.get(l.name);
    if (!prev) byName.set(l.name, l);
    else {
      const [keep, drop] = l.version > prev.version ? [l, prev] : [prev, l];
      byName.set(l.name, keep);
      problems.push(
        problem(
          drop.origin,
          '$.name',
          `list "${l.name}" also loaded from ${keep.origin} (version ${keep.version} kept, ${drop.version} dropped)`,
          true,
        ),
      );
    }
  }
  return { lists: [...byName.values()], problems };
}

export interface BuildResult {
  matcher: WarninglistMatcher;
  problems: WarninglistProblem[];
  /** Milliseconds spent reading, parsing and compiling. */
  loadMs: number;
}

/** Loads paths and documents (plus lists already parsed, e.g. by fetchWarninglists), drops duplicates and excluded lists, compiles. */
export async function buildWarninglistMatcher(
  opts: {
    paths?: readonly string[];
    docs?: readonly { json: unknown; origin: string }[];
    lists?: readonly Warninglist[];
  } & CompileOptions,
): Promise<BuildResult> {
  const t0 = performance.now();
  const fromPaths = await loadWarninglistPaths(opts.paths ?? []);
  const fromDocs = loadWarninglistDocs(opts.docs ?? []);
  const deduped = dedupeByName([...fromPaths.lists, ...fromDocs.lists, ...(opts.lists ?? [])]);
  const { matcher, problems } = WarninglistMatcher.compile(deduped.lists, opts);
  return {
    matcher,
    problems: [...fromPaths.problems, ...fromDocs.problems, ...deduped.problems, ...problems],
    loadMs: performance.now() - t0,
  };
}
