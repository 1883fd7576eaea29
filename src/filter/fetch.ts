import { errorMessage } from '../core/errors.js';
/** Fetching warninglists over HTTP with the engine's client (rate limit, retries, SSRF policy, size cap). */
import type { HttpClient } from '../http/types.js';
import { parseWarninglistText, problem } from './format.js';
import type { LoadResult } from './warninglists.js';

/** GETs each URL and validates it as a list document; a failed URL is reported and the others kept. */
export async function fetchWarninglists(
  http: HttpClient,
  urls: readonly string[],
  signal?: AbortSignal,
): Promise<LoadResult> {
  const out: LoadResult = { lists: [], problems: [] };
  for (const url of urls) {
    try {
      const res = await http.request({ url, method: 'GET', signal });
      const r = parseWarninglistText(await res.text(), url);
      if (r.ok) out.lists.push(r.list);
      out.problems.push(...r.problems);
    } catch (e) {
      if (signal?.aborted) throw e;
      out.problems.push(problem(url, '$', `cannot fetch: ${errorMessage(e)}`, true));
    }
  }
  return out;
}
