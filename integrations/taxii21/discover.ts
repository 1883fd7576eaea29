import { StixgateError } from '../../src/core/errors.js';
import type { TaxiiClient } from './client.js';

/**
 * From the configured `url` (a discovery URL or an API root) to the API root and the collections
 * to poll. Every URL the server names is resolved against the one it came from and must stay on
 * the configured origin.
 */

export interface TaxiiCollection {
  id: string;
  title: string;
  canRead: boolean;
  /** `…/collections/{id}/` */
  url: string;
}

export interface ResolvedRoot {
  /** The API root URL, with a trailing slash. */
  url: string;
  title?: string;
  /** The discovery title, when `url` was a discovery URL. */
  serverTitle?: string;
  collections: TaxiiCollection[];
}

function withSlash(u: string): string {
  return u.endsWith('/') ? u : `${u}/`;
}

function isDiscovery(body: Record<string, unknown>): boolean {
  return Array.isArray(body.api_roots) || typeof body.default === 'string';
}

/**
 * An API root as the discovery resource lists it, made absolute. Servers write them absolute,
 * origin-relative (`/api1/`) or bare (`api/v21`, MITRE ATT&CK's server): bare names are taken from
 * the server root, not from the discovery path.
 */
export function apiRootUrl(ref: string, discoveryUrl: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref) || ref.startsWith('/')) return new URL(ref, discoveryUrl).href;
  return new URL(`/${ref}`, discoveryUrl).href;
}

function lastSegment(u: string): string {
  return new URL(u).pathname.split('/').filter(Boolean).pop() ?? '';
}

export async function resolveApiRoot(
  client: TaxiiClient,
  component: string,
  url: string,
  apiRoot: string | undefined,
): Promise<{ url: string; title?: string; serverTitle?: string }> {
  const first = await client.get(withSlash(url));
  if (!isDiscovery(first.body)) {
    return { url: withSlash(first.url), title: typeof first.body.title === 'string' ? first.body.title : undefined };
  }
  const serverTitle = typeof first.body.title === 'string' ? first.body.title : undefined;
  const listed = (Array.isArray(first.body.api_roots) ? first.body.api_roots : []).filter(
    (r): r is string => typeof r === 'string',
  );
  const def = typeof first.body.default === 'string' ? first.body.default : undefined;
  let chosen: string | undefined;
  if (apiRoot !== undefined) {
    const want = apiRoot.replace(/\/+$/, '');
    chosen = [...listed, ...(def ? [def] : [])].find(
      (r) => r.replace(/\/+$/, '') === want || lastSegment(apiRootUrl(r, first.url)) === want,
    );
    if (!chosen && /^https?:\/\//i.test(apiRoot)) chosen = apiRoot;
    if (!chosen) {
      const names = listed.map((r) => lastSegment(apiRootUrl(r, first.url))).join(', ');
      throw new StixgateError(
        'STIXGATE_ERR_CONFIG_INVALID',
        `${component}: api_root "${apiRoot}" is not listed by the server (it lists: ${names || 'none'})`,
        { reason: 'taxii_api_root' },
      );
    }
  } else {
    chosen = def ?? (listed.length === 1 ? listed[0] : undefined);
    if (!chosen) {
      throw new StixgateError(
        'STIXGATE_ERR_CONFIG_INVALID',
        `${component}: the server lists ${listed.length} API roots and no default: set api_root`,
        { reason: 'taxii_api_root' },
      );
    }
  }
  const rootUrl = withSlash(
    client.sameOrigin(/^https?:\/\//i.test(chosen) ? chosen : apiRootUrl(chosen, first.url), first.url, 'API root'),
  );
  const info = await client.get(rootUrl);
  return { url: rootUrl, title: typeof info.body.title === 'string' ? info.body.title : undefined, serverTitle };
}

export async function listCollections(client: TaxiiClient, rootUrl: string): Promise<TaxiiCollection[]> {
  const res = await client.get(`${rootUrl}collections/`);
  const list = Array.isArray(res.body.collections) ? res.body.collections : [];
  const out: TaxiiCollection[] = [];
  for (const c of list) {
    if (!c || typeof c !== 'object') continue;
    const o = c as Record<string, unknown>;
    if (typeof o.id !== 'string' || o.id === '' || o.id.length > 200) continue;
    out.push({
      id: o.id,
      title: typeof o.title === 'string' ? o.title : o.id,
      canRead: o.can_read === true,
      url: client.sameOrigin(`${encodeURIComponent(o.id)}/`, `${rootUrl}collections/`, 'collection'),
    });
  }
  return out;
}

/** The collections named in `wanted` (ids or titles), or every readable one. */
export function pickCollections(component: string, all: TaxiiCollection[], wanted: string[]): TaxiiCollection[] {
  if (wanted.length === 0) return all.filter((c) => c.canRead);
  const out: TaxiiCollection[] = [];
  for (const w of wanted) {
    const c = all.find((x) => x.id === w) ?? all.find((x) => x.title === w);
    if (!c) {
      const known = all.map((x) => `${x.id} (${x.title})`).join(', ');
      throw new StixgateError(
        'STIXGATE_ERR_CONFIG_INVALID',
        `${component}: collection "${w}" is not in the API root (it has: ${known || 'none'})`,
        { reason: 'taxii_collection' },
      );
    }
    if (!c.canRead) {
      throw new StixgateError(
        'STIXGATE_ERR_CONFIG_INVALID',
        `${component}: collection "${w}" is not readable with these credentials (can_read is false)`,
        { reason: 'taxii_collection' },
      );
    }
    if (!out.includes(c)) out.push(c);
  }
  return out;
}
