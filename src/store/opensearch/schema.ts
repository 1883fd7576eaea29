import { s, type Infer, type Issue, type Schema } from '../../core/schema.js';
import { retentionSchema } from '../retention.js';

/**
 * `store: { type: opensearch, … }` (docs/opensearch.md). Secrets (`auth.password`,
 * `auth.api_key`) may be `${ENV}` / `${file:…}` references and are never logged.
 */
const authFields = s.object(
  {
    username: s.string({
      optional: true,
      minLength: 1,
      maxLength: 256,
      description: 'basic auth user (with `password`)',
    }),
    password: s.string({
      optional: true,
      secret: true,
      minLength: 1,
      description: 'basic auth password (a secret reference)',
    }),
    api_key: s.string({
      optional: true,
      secret: true,
      minLength: 1,
      description: 'sent as `Authorization: ApiKey <api_key>` (a secret reference); instead of username/password',
    }),
  },
  { optional: true, description: 'either `username` + `password` or `api_key`; omit for an unsecured cluster' },
);

type AuthConfig = Infer<typeof authFields>;

/** The auth mapping with its one cross-field rule: exactly one of basic or API key. */
const authSchema: Schema<AuthConfig> = {
  kind: authFields.kind,
  description: authFields.description,
  optional: true,
  parse(value: unknown, path: string, issues: Issue[]) {
    const out = authFields.parse(value, path, issues);
    if (!out) return out;
    const basic = out.username !== undefined || out.password !== undefined;
    if (basic && out.api_key !== undefined) {
      issues.push({ path, message: 'use either username/password or api_key, not both' });
    } else if (basic && (out.username === undefined || out.password === undefined)) {
      issues.push({
        path: `${path}.${out.username === undefined ? 'username' : 'password'}`,
        message: 'is required with basic auth',
      });
    } else if (!basic && out.api_key === undefined) {
      issues.push({ path, message: 'needs username + password or api_key' });
    }
    return out;
  },
};

export const opensearchStoreSchema = s.object({
  type: s.enum(['opensearch'] as const, { description: 'store backend' }),
  node: s.string({
    pattern: /^https?:\/\/[^\s/]+(\/[^\s]*)?$/,
    patternHint: 'must be an http:// or https:// URL such as https://opensearch:9200',
    description: 'cluster URL (a load balancer or one node)',
  }),
  auth: authSchema,
  index_prefix: s.string({
    default: 'stixgate',
    pattern: /^[a-z0-9][a-z0-9_-]{0,47}$/,
    patternHint: 'lower case letters, digits, _ and -, at most 48 characters',
    description: 'index names start with this (`<prefix>-objects`, `<prefix>-meta`, `<prefix>-ledger`)',
  }),
  tls: s.object(
    {
      ca_file: s.string({ optional: true, description: 'PEM bundle of CAs to trust' }),
      cert_file: s.string({ optional: true, description: 'client certificate (PEM), with key_file' }),
      key_file: s.string({ optional: true, description: 'client key (PEM), with cert_file' }),
      verify: s.bool({ default: true, description: 'verify the server certificate and name' }),
    },
    // cast: the schema language types optional keys as present; the default leaves them out on purpose
    { default: { verify: true } as never, description: 'TLS for https:// nodes' },
  ),
  seen_granularity_secs: s.int({
    default: 3600,
    min: 0,
    max: 7 * 86400,
    description: 'last_seen / valid_until move only by more than this, so re-polls write nothing',
  }),
  max_batch_docs: s.int({ default: 1000, min: 1, max: 10000, description: 'documents per bulk request' }),
  max_batch_bytes: s.int({
    default: 5 * 1024 * 1024,
    min: 64 * 1024,
    max: 100 * 1024 * 1024,
    description: 'bytes per bulk request',
  }),
  request_timeout_secs: s.int({ default: 30, min: 1, max: 600, description: 'deadline of one request to the cluster' }),
  sequence_ttl_secs: s.int({
    default: 5,
    min: 2,
    max: 3600,
    description:
      'how long a writer that stops publishing its change-log fence holds readers back (plus 2 s clock skew, ADR 0023)',
  }),
  refresh_interval: s.string({
    default: '1s',
    pattern: /^(-1|\d{1,6}(ms|s|m))$/,
    patternHint: 'e.g. 1s, 30s or -1',
    description: 'refresh_interval of the objects index',
  }),
  number_of_shards: s.int({
    default: 1,
    min: 1,
    max: 64,
    description:
      'primary shards of the objects, ledger and links indices, applied when an index is created (the meta index always has 1; docs/opensearch.md, "Shards and replicas")',
  }),
  number_of_replicas: s.int({
    default: 1,
    min: 0,
    max: 8,
    description: 'replicas of every stixgate index, applied at creation and at each start',
  }),
  retention: retentionSchema,
  retry: s.object(
    {
      max_attempts: s.int({ default: 5, min: 1, max: 20 }),
      base_delay_ms: s.int({ default: 200, min: 1, max: 60000 }),
      max_delay_ms: s.int({ default: 5000, min: 1, max: 600000 }),
    },
    {
      default: { max_attempts: 5, base_delay_ms: 200, max_delay_ms: 5000 },
      description: 'retries of 429/5xx items and unreachable-cluster requests inside one store call',
    },
  ),
});

export type OpenSearchStoreConfig = Infer<typeof opensearchStoreSchema>;

/** The auth/tls cross-field checks that need more than one key (also run by `createClient`). */
export function tlsIssues(cfg: Pick<OpenSearchStoreConfig, 'tls'>, path = 'store.tls'): Issue[] {
  const t = cfg.tls;
  if ((t.cert_file === undefined) !== (t.key_file === undefined)) {
    return [
      {
        path: `${path}.${t.cert_file === undefined ? 'cert_file' : 'key_file'}`,
        message: 'cert_file and key_file go together',
      },
    ];
  }
  return [];
}
