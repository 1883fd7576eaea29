import { qerror, type SimResponse } from './sim-http.js';

/**
 * What a credential may do on the QRadar simulator: its user role (the endpoints it may call, as
 * `/help/endpoints` reports in `caller_has_access`), whether it is an Admin (only Admin users may
 * write the SHARED domain: QRadar 26.0 OpenAPI `/reference_data/sets/bulk_load/{namespace}/{name}/{domain_id}`
 * "numeric domain_id … or SHARED for Admin users. Must be a domain ID for which the caller has
 * access"), the domains it may tag data with, and its tenant.
 */
export interface TokenAccess {
  /** Admin user role (default true). */
  admin?: boolean;
  /** Domains the credential may tag data with (default: every domain of the console). */
  domains?: number[];
  /** The tenant of a tenant user (sets in namespace TENANT with this tenant_id). */
  tenantId?: number;
  /** Endpoints its user role lacks, as "METHOD /path/template" (e.g. "PATCH /reference_data_collections/set_entries"). */
  denied?: string[];
}

/** The endpoints the simulator serves, as `/help/endpoints` lists them; `from`/`until` bound the API versions. */
export const ENDPOINTS: { method: string; path: string; from?: number; until?: number }[] = [
  { method: 'GET', path: '/help/versions' },
  { method: 'GET', path: '/help/endpoints' },
  { method: 'GET', path: '/system/about' },
  { method: 'GET', path: '/reference_data/sets' },
  { method: 'POST', path: '/reference_data/sets' },
  { method: 'GET', path: '/reference_data/sets/{name}' },
  { method: 'POST', path: '/reference_data/sets/{name}' },
  { method: 'DELETE', path: '/reference_data/sets/{name}' },
  { method: 'DELETE', path: '/reference_data/sets/{name}/{value}' },
  { method: 'POST', path: '/reference_data/sets/bulk_load/{name}', until: 25 },
  { method: 'POST', path: '/reference_data/sets/bulk_load/{namespace}/{name}/{domain_id}' },
  { method: 'GET', path: '/reference_data_collections/sets', from: 16 },
  { method: 'POST', path: '/reference_data_collections/sets', from: 16 },
  { method: 'GET', path: '/reference_data_collections/sets/{id}', from: 16 },
  { method: 'POST', path: '/reference_data_collections/sets/{id}', from: 16 },
  { method: 'DELETE', path: '/reference_data_collections/sets/{id}', from: 16 },
  { method: 'GET', path: '/reference_data_collections/set_entries', from: 16 },
  { method: 'POST', path: '/reference_data_collections/set_entries', from: 16 },
  { method: 'PATCH', path: '/reference_data_collections/set_entries', from: 16 },
  { method: 'GET', path: '/reference_data_collections/set_entries/{id}', from: 16 },
  { method: 'POST', path: '/reference_data_collections/set_entries/{id}', from: 16 },
  { method: 'DELETE', path: '/reference_data_collections/set_entries/{id}', from: 16 },
  { method: 'GET', path: '/reference_data_collections/set_bulk_update_tasks/{task_status_id}', from: 16 },
  { method: 'GET', path: '/reference_data_collections/set_bulk_update_tasks/{task_status_id}/results', from: 16 },
  { method: 'GET', path: '/reference_data_collections/set_delete_tasks/{task_status_id}', from: 16 },
];

/** The served endpoint template of a request path below /api (segments decoded once), or undefined. */
export function templateOf(method: string, segs: string[]): string | undefined {
  let best: { path: string; literals: number } | undefined;
  for (const e of ENDPOINTS) {
    if (e.method !== method) continue;
    const t = e.path.split('/').slice(1);
    if (t.length !== segs.length || !t.every((p, i) => p.startsWith('{') || p === segs[i])) continue;
    // a literal beats a parameter: bulk_load/{name} is not {name}/{value}
    const literals = t.filter((p) => !p.startsWith('{')).length;
    if (!best || literals > best.literals) best = { path: e.path, literals };
  }
  return best?.path;
}

/** The role check: 403 (QRadar's wording) when the credential's role lacks the endpoint. */
export function roleRefusal(
  access: Required<Pick<TokenAccess, 'denied'>> & { write: boolean },
  method: string,
  template: string | undefined,
): SimResponse | undefined {
  const denied =
    (!access.write && method !== 'GET') || (template !== undefined && access.denied.includes(`${method} ${template}`));
  return denied
    ? qerror(403, 0, 'The user does not have the required capability to perform this action.', 'Authorization failed.')
    : undefined;
}

/** Which domains a credential may tag data with, and whether it may use SHARED. */
export class DomainCheck {
  constructor(
    private readonly known: ReadonlySet<number>,
    private readonly access: TokenAccess,
  ) {}

  get admin(): boolean {
    return this.access.admin !== false;
  }

  get tenantId(): number | undefined {
    return this.access.tenantId;
  }

  /** True when the credential may tag data with domain `d` (a known domain it has access to). */
  allows(d: number): boolean {
    return this.known.has(d) && (this.access.domains === undefined || this.access.domains.includes(d));
  }

  /**
   * The legacy `domain_id` (path or query): SHARED (or absent) for Admin users only, else a domain
   * the caller has access to; 404/1011 for an unknown or inaccessible domain [UNCERTAIN: IBM's page
   * lists 404 "Domain not found"; the status for a non-admin SHARED is not documented, 403 here].
   */
  legacy(text: string | null): { domainId: number | null } | SimResponse {
    if (text === null || text === 'SHARED') {
      if (text === 'SHARED' && !this.admin)
        return qerror(
          403,
          0,
          'Only Admin users may use the SHARED domain; specify a numeric domain_id the caller has access to',
          'Authorization failed.',
        );
      return { domainId: null };
    }
    const d = /^\d+$/.test(text) ? Number(text) : NaN;
    if (Number.isNaN(d))
      return qerror(422, 1005, `Invalid domain_id value: ${text}`, 'The domain_id must be numeric or SHARED.');
    if (!this.allows(d)) return qerror(404, 1011, `Domain ${d} not found`, 'Domain not found');
    return { domainId: d };
  }
}
