import { StixgateError } from '../../src/core/errors.js';
import type { SinkRunContext } from '../../src/delivery/types.js';
import { filterString, type QradarClient } from './client.js';

/**
 * The endpoints the sink calls, per API generation, and the check that the credential's user role
 * may call each of them. QRadar lists every endpoint of an API version with `caller_has_access`
 * for the caller (QRadar 26.0 OpenAPI `GET /help/endpoints`), so the check changes nothing and
 * costs one request: `stixgate validate --probe` reports a token that lacks a right before the
 * first push meets a 403.
 */

export function sinkEndpoints(generation: 'collections' | 'legacy', version: number): string[] {
  if (generation === 'collections') {
    return [
      'GET /reference_data_collections/sets',
      'POST /reference_data_collections/sets',
      'PATCH /reference_data_collections/set_entries',
      'GET /reference_data_collections/set_bulk_update_tasks/{task_status_id}',
      'GET /reference_data_collections/set_bulk_update_tasks/{task_status_id}/results',
      'GET /reference_data_collections/set_entries',
      'DELETE /reference_data_collections/set_entries/{id}',
    ];
  }
  return [
    'GET /reference_data/sets',
    'POST /reference_data/sets',
    version >= 26
      ? 'POST /reference_data/sets/bulk_load/{namespace}/{name}/{domain_id}'
      : 'POST /reference_data/sets/bulk_load/{name}',
    'POST /reference_data/sets/{name}',
    'DELETE /reference_data/sets/{name}/{value}',
  ];
}

interface EndpointDoc {
  http_method?: unknown;
  path?: unknown;
  caller_has_access?: unknown;
}

/** `/help/endpoints` paths with or without the leading `/` or `/api` [UNCERTAIN: IBM does not show a sample]. */
const norm = (p: string): string => `/${p.replace(/^\/+/, '').replace(/^api\//, '')}`;

/**
 * Throws STIXGATE_ERR_SINK_AUTH naming every endpoint the credential may not call, and
 * STIXGATE_ERR_SINK_PROTOCOL naming those the console does not serve at this API version.
 * Returns a short summary for the probe line.
 */
export async function checkRights(
  ctx: SinkRunContext,
  client: QradarClient,
  generation: 'collections' | 'legacy',
): Promise<string> {
  const version = client.version ?? '';
  const need = sinkEndpoints(generation, Number(version));
  const prefix = generation === 'collections' ? '/reference_data_collections/' : '/reference_data/sets';
  const docs = await client.list<EndpointDoc>(ctx, '/help/endpoints', {
    filter: `version=${filterString(version)} and path ILIKE ${filterString(`%${prefix}%`)}`,
    fields: 'http_method,path,caller_has_access',
  });
  const access = new Map<string, boolean>();
  for (const d of docs)
    if (typeof d.http_method === 'string' && typeof d.path === 'string')
      access.set(`${d.http_method.toUpperCase()} ${norm(d.path)}`, d.caller_has_access === true);
  const missing = need.filter((e) => !access.has(e));
  if (missing.length)
    throw new StixgateError(
      'STIXGATE_ERR_SINK_PROTOCOL',
      `${client.component}: the console does not serve ${missing.join(', ')} at API ${version} (/api/help/endpoints); set api_version or api`,
      { reason: 'endpoints' },
    );
  const denied = need.filter((e) => access.get(e) === false);
  if (denied.length) {
    throw new StixgateError(
      'STIXGATE_ERR_SINK_AUTH',
      `${client.component}: the token's user role may not call ${denied.join(', ')} (/api/help/endpoints caller_has_access=false); give the authorized service a user role that manages reference data`,
      { reason: 'rights' },
    );
  }
  return `the token may call all ${need.length} endpoints the sink uses`;
}
