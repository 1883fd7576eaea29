import { s, type Infer, type Issue, type Schema } from '../../src/core/schema.js';

/** Routing keys of the `sets:` section (mapping table and config override). */
export const ROUTE_KEYS = [
  'ipv4-addr',
  'ipv4-cidr',
  'ipv6-addr',
  'ipv6-cidr',
  'domain-name',
  'url',
  'email-addr',
  'file-md5',
  'file-sha1',
  'file-sha256',
  'file-sha512',
  'x509-sha1',
  'x509-sha256',
] as const;
export type RouteKey = (typeof ROUTE_KEYS)[number];

const base = {
  url: s.string({
    pattern: /^https?:\/\/[^/]/i,
    patternHint: 'must be an http(s):// URL of the QRadar console, e.g. https://qradar.example.com',
    description: 'the console URL (the REST API is under /api)',
  }),
  token: s.string({
    optional: true,
    secret: true,
    minLength: 1,
    description: 'authorized service token, sent in the SEC header (use ${ENV} or ${file:…}); or username/password',
  }),
  username: s.string({ optional: true, minLength: 1, description: 'Basic-auth user (instead of token)' }),
  password: s.string({ optional: true, secret: true, description: 'Basic-auth password (use ${ENV} or ${file:…})' }),
  api_version: s.string({
    default: 'auto',
    pattern: /^(auto|\d+\.\d+)$/,
    patternHint: 'must be "auto" or a version such as 26.0',
    description: 'the Version header sent; auto = the newest the console lists in /api/help/versions (at most 26.0)',
  }),
  api: s.enum(['auto', 'collections', 'legacy'] as const, {
    default: 'auto',
    description: 'auto = reference_data_collections from API 16.0 on, the legacy reference_data/sets API before',
  }),
  set_prefix: s.string({
    default: 'stixgate - ',
    maxLength: 100,
    description: 'prefix of the set names of the mapping table (e.g. "stixgate - IPv4")',
  }),
  sets: s.record(s.string({ minLength: 1, maxLength: 255 }), {
    default: {},
    description: `set names by routing key (${ROUTE_KEYS.join(', ')}), used as is, overriding the mapping table`,
  }),
  domain_id: s.int({
    optional: true,
    min: 0,
    description:
      'QRadar domain the pushed values are tagged with (`domain_id`); unset = the SHARED domain, which only an Admin token may write. A non-admin token needs a domain it has access to',
  }),
  tenant_id: s.int({
    optional: true,
    min: 0,
    description:
      'tenant of a multi-tenant console: the sets are created in namespace TENANT for this tenant (api: collections only); unset = namespace SHARED',
  }),
  ttl_days: s.int({
    optional: true,
    min: 1,
    max: 3650,
    description: 'time to live of a value, counted from its last push (LAST_SEEN); unset = values never age out',
  }),
  chunk_size: s.int({
    default: 1000,
    min: 1,
    max: 10_000,
    description: 'values per bulk request (no documented QRadar limit; clients use 50–5,000)',
  }),
  adaptive_chunking: s.bool({
    default: false,
    description:
      'measure elements/s and move the chunk size along 50…10,000 towards the fastest (for consoles that slow down with large loads)',
  }),
  task_timeout_secs: s.int({
    default: 300,
    min: 1,
    max: 3600,
    description: 'longest wait for an asynchronous bulk update task (collections API); the batch is then retried',
  }),
  delete_concurrency: s.int({
    default: 4,
    min: 1,
    max: 32,
    description: 'deletions in flight at once within a batch (QRadar deletes one value per request)',
  }),
};

const obj = s.object(base);
export type QradarConfig = Infer<typeof obj>;

export const qradarSchema: Record<string, Schema<unknown>> = base;

/** Cross-key checks the per-key schema cannot express; returns issues with their YAML paths. */
export function checkQradarConfig(c: Partial<QradarConfig>, path = ''): Issue[] {
  const at = (k: string) => (path ? `${path}.${k}` : k);
  const issues: Issue[] = [];
  const hasBasic = c.username !== undefined || c.password !== undefined;
  if (c.token === undefined && !hasBasic)
    issues.push({ path: at('token'), message: 'is required (or username and password)' });
  if (c.token !== undefined && hasBasic)
    issues.push({ path: at('token'), message: 'use either token or username/password, not both' });
  if (c.token === undefined && hasBasic && (c.username === undefined || c.password === undefined))
    issues.push({
      path: at(c.username === undefined ? 'username' : 'password'),
      message: 'username and password go together',
    });
  if (c.tenant_id !== undefined && c.api === 'legacy')
    issues.push({
      path: at('tenant_id'),
      message: 'needs api: collections (legacy reference_data/sets are created in the SHARED namespace only)',
    });
  for (const k of Object.keys(c.sets ?? {})) {
    if (!(ROUTE_KEYS as readonly string[]).includes(k))
      issues.push({ path: at(`sets.${k}`), message: `unknown routing key (known: ${ROUTE_KEYS.join(', ')})` });
  }
  return issues;
}
