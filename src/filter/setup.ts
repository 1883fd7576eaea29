/**
 * Building the publish filter from configuration, and reloading its warninglists. A reload that
 * loads nothing while lists were in use keeps the previous lists (a network or disk failure must
 * not silently start publishing everything); its problems are returned either way.
 */
import type { Infer } from '../core/schema.js';
import type { HttpClient } from '../http/types.js';
import { buildWarninglistMatcher, type BuildResult } from './warninglists.js';
import { fetchWarninglists } from './fetch.js';
import { problem, type WarninglistProblem } from './format.js';
import { WarninglistMatcher } from './matcher.js';
import { PublishFilter } from './policy.js';
import type { warninglistsSchema } from './schema.js';
import type { AllowlistEntry } from './allowlist.js';

export type WarninglistsConfig = Infer<typeof warninglistsSchema>;

/** Loads the configured paths and URLs (URLs need `http`; without it they are reported). */
export async function loadConfiguredWarninglists(
  cfg: WarninglistsConfig,
  http?: HttpClient,
  signal?: AbortSignal,
): Promise<BuildResult> {
  if (!cfg.enabled) return { matcher: WarninglistMatcher.compile([]).matcher, problems: [], loadMs: 0 };
  const t0 = performance.now();
  const problems: WarninglistProblem[] = [];
  let fetched: Awaited<ReturnType<typeof fetchWarninglists>> = { lists: [], problems: [] };
  if (cfg.urls.length) {
    if (http) fetched = await fetchWarninglists(http, cfg.urls, signal);
    else for (const u of cfg.urls) problems.push(problem(u, '$', 'URL lists need the HTTP client', true));
  }
  const built = await buildWarninglistMatcher({ paths: cfg.paths, lists: fetched.lists, exclude: cfg.exclude });
  return {
    matcher: built.matcher,
    problems: [...problems, ...fetched.problems, ...built.problems],
    loadMs: performance.now() - t0,
  };
}

export async function createPublishFilter(
  cfg: {
    warninglists: WarninglistsConfig;
    publish_allowlist: readonly AllowlistEntry[];
    allowlist?: readonly string[];
  },
  trustedSources: Iterable<string>,
  http?: HttpClient,
  signal?: AbortSignal,
): Promise<{ filter: PublishFilter } & BuildResult> {
  const built = await loadConfiguredWarninglists(cfg.warninglists, http, signal);
  const filter = new PublishFilter({
    warninglists: built.matcher,
    allowlist: cfg.publish_allowlist,
    ingestAllowlist: cfg.allowlist,
    trustedSources,
  });
  return { filter, ...built };
}

/** Reloads the warninglists into `filter`; `swapped` is false when the previous lists were kept. */
export async function reloadWarninglists(
  filter: PublishFilter,
  cfg: WarninglistsConfig,
  http?: HttpClient,
  signal?: AbortSignal,
): Promise<{ swapped: boolean } & BuildResult> {
  const built = await loadConfiguredWarninglists(cfg, http, signal);
  const previous = filter.lists?.size ?? 0;
  if (built.matcher.size === 0 && previous > 0 && cfg.enabled) return { swapped: false, ...built };
  filter.setWarninglists(built.matcher);
  return { swapped: true, ...built };
}
