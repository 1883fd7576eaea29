import { s, type Infer, type Issue, type Schema } from '../../src/core/schema.js';

/** `auth:` is either basic auth (`username` + `password`) or an API-key header (`header` + `api_key`). */
export type TaxiiAuth = { username: string; password: string } | { header: string; api_key: string };

const authKeys = {
  username: s.string({ optional: true, minLength: 1, description: 'basic-auth user name' }),
  password: s.string({ optional: true, secret: true, description: 'basic-auth password (use ${ENV} or ${file:…})' }),
  header: s.string({
    optional: true,
    pattern: /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/,
    patternHint: 'must be an HTTP header name, e.g. X-API-Key',
    description: 'name of the header carrying the API key (e.g. Authorization, X-API-Key)',
  }),
  api_key: s.string({
    optional: true,
    secret: true,
    description: 'API key sent in `header` (use ${ENV} or ${file:…})',
  }),
};
const authObject = s.object(authKeys);
const HOP_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'accept', 'cookie']);

/** The `auth:` mapping: one of the two shapes, checked with YAML paths like every other key. */
export const authSchema: Schema<TaxiiAuth> & { readonly props: typeof authKeys } = {
  props: authKeys,
  kind: 'mapping: {username, password} or {header, api_key}',
  description: 'credentials: basic auth `{ username, password }` or an API-key header `{ header, api_key }`',
  optional: true,
  parse(value: unknown, path: string, issues: Issue[]): TaxiiAuth | undefined {
    if (value === undefined || value === null) return undefined;
    const v = authObject.parse(value, path, issues);
    if (!v) return undefined;
    const basic = v.username !== undefined || v.password !== undefined;
    const key = v.header !== undefined || v.api_key !== undefined;
    if (basic && key) {
      issues.push({ path, message: 'use either username/password or header/api_key, not both' });
      return undefined;
    }
    if (basic) {
      if (v.username === undefined) issues.push({ path: `${path}.username`, message: 'is required with password' });
      if (v.password === undefined) issues.push({ path: `${path}.password`, message: 'is required with username' });
      if (v.username?.includes(':'))
        issues.push({ path: `${path}.username`, message: 'must not contain ":" (basic auth)' });
      return v.username !== undefined && v.password !== undefined
        ? { username: v.username, password: v.password }
        : undefined;
    }
    if (key) {
      if (v.header === undefined) issues.push({ path: `${path}.header`, message: 'is required with api_key' });
      if (v.api_key === undefined) issues.push({ path: `${path}.api_key`, message: 'is required with header' });
      if (v.header !== undefined && HOP_HEADERS.has(v.header.toLowerCase()))
        issues.push({ path: `${path}.header`, message: `"${v.header}" cannot carry an API key` });
      return v.header !== undefined && v.api_key !== undefined ? { header: v.header, api_key: v.api_key } : undefined;
    }
    issues.push({ path, message: 'must hold username/password or header/api_key' });
    return undefined;
  },
};

export const taxii21Schema = {
  url: s.string({
    pattern: /^https?:\/\//i,
    patternHint: 'must be an http(s):// URL',
    description: 'the server discovery URL (…/taxii2/) or an API root URL',
  }),
  api_root: s.string({
    optional: true,
    description:
      'API root to use when `url` is a discovery URL: its URL or its last path segment (default: the discovery `default`, else the only one)',
  }),
  collections: s.array(s.string({ minLength: 1 }), {
    default: [],
    description: 'collection ids or titles to poll (default: every collection with can_read)',
  }),
  page_size: s.int({
    default: 1000,
    min: 1,
    max: 10_000,
    description: '`limit` asked per request (servers may return fewer)',
  }),
  match_types: s.array(s.string({ pattern: /^[a-z][a-z0-9-]*$/, patternHint: 'must be a STIX type name' }), {
    default: [],
    description: '`match[type]`: only these STIX types (default: all)',
  }),
  spec_versions: s.array(s.enum(['2.0', '2.1'] as const), {
    default: [],
    description: "`match[spec_version]` (default: the server's, i.e. the latest)",
  }),
  auth: authSchema,
  max_pages_per_run: s.int({
    default: 1000,
    min: 1,
    description: 'pages read per collection per run; the rest is read on the next run from the committed cursor',
  }),
  overlap_secs: s.int({
    default: 60,
    min: 0,
    max: 7 * 86_400,
    description:
      'the next run asks for objects added after (cursor − overlap): objects added late or with equal date_added are read again and absorbed by the idempotent store',
  }),
  max_skew_secs: s.int({
    default: 300,
    min: 0,
    max: 86_400,
    description: 'a cursor is never set beyond now + this (server clocks ahead)',
  }),
  full_resync: s.bool({
    default: false,
    description:
      'one-off: the next run ignores the committed cursor and reads every collection from the start; later runs are incremental again',
  }),
};
const obj = s.object(taxii21Schema);
export type Taxii21Config = Infer<typeof obj>;
