import { s, type Infer, type Issue, type Schema } from '../../src/core/schema.js';

/**
 * Configuration of the three Splunk sinks (`splunk_kv`, `splunk_es`, `splunk_hec`). The keys every
 * sink accepts (filters, batch_size, concurrency, retry, TLS…) are the engine's; these are Splunk's.
 */

/** Management-port credentials: a Splunk authentication token, a bearer (JWT) token, or Basic. */
export type SplunkAuth = { token: string } | { bearer_token: string } | { username: string; password: string };

const authKeys = {
  token: s.string({
    optional: true,
    secret: true,
    minLength: 1,
    description: 'Splunk session key / authentication token, sent as `Authorization: Splunk <token>`',
  }),
  bearer_token: s.string({
    optional: true,
    secret: true,
    minLength: 1,
    description: 'JWT authentication token (Splunk ≥ 7.3), sent as `Authorization: Bearer <token>`',
  }),
  username: s.string({ optional: true, minLength: 1, description: 'user for HTTP Basic authentication' }),
  password: s.string({
    optional: true,
    secret: true,
    description: 'password for HTTP Basic authentication (use ${ENV} or ${file:…})',
  }),
};
const authObject = s.object(authKeys);

/** `auth:`: exactly one of `token`, `bearer_token`, or `username` + `password`. */
export const splunkAuthSchema: Schema<SplunkAuth> & { readonly props: typeof authKeys } = {
  props: authKeys,
  kind: 'mapping: {token} or {bearer_token} or {username, password}',
  description:
    'management-port credentials: `{ token }` (Splunk token), `{ bearer_token }` (JWT) or `{ username, password }` (Basic)',
  optional: false,
  parse(value: unknown, path: string, issues: Issue[]): SplunkAuth | undefined {
    if (value === undefined || value === null) {
      issues.push({ path, message: 'is required (token, bearer_token or username/password)' });
      return undefined;
    }
    const v = authObject.parse(value, path, issues);
    if (!v) return undefined;
    const kinds = [
      v.token !== undefined,
      v.bearer_token !== undefined,
      v.username !== undefined || v.password !== undefined,
    ].filter(Boolean).length;
    if (kinds !== 1) {
      issues.push({
        path,
        message:
          kinds === 0
            ? 'must hold token, bearer_token or username/password'
            : 'use exactly one of token, bearer_token or username/password',
      });
      return undefined;
    }
    if (v.token !== undefined) return { token: v.token };
    if (v.bearer_token !== undefined) return { bearer_token: v.bearer_token };
    if (v.username === undefined) issues.push({ path: `${path}.username`, message: 'is required with password' });
    if (v.password === undefined) issues.push({ path: `${path}.password`, message: 'is required with username' });
    if (v.username?.includes(':'))
      issues.push({ path: `${path}.username`, message: 'must not contain ":" (Basic authentication)' });
    return v.username !== undefined && v.password !== undefined
      ? { username: v.username, password: v.password }
      : undefined;
  },
};

const url = (what: string) =>
  s.string({
    pattern: /^https?:\/\/[^/?#]+(\/[^?#]*)?$/i,
    patternHint: 'must be an http(s):// URL without query or fragment',
    description: what,
  });
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const name = (description: string, def: string) =>
  s.string({ default: def, pattern: NAME, patternHint: 'letters, digits, "_", "-" and "." only', description });

const connection = {
  url: url('management URL, e.g. https://splunk.example:8089 (a path is kept as a prefix, for reverse proxies)'),
  auth: splunkAuthSchema,
};

const kvKeys = {
  owner: name('namespace owner of the collection (`nobody` = shared in the app)', 'nobody'),
  max_documents_per_batch_save: s.int({
    default: 1000,
    min: 1,
    max: 50_000,
    description:
      'documents per batch_save request: limits.conf [kvstore] max_documents_per_batch_save (1000 up to Splunk 9.0, 50000 from 9.1; larger values are lowered to 1000 when the server reports an older version)',
  }),
  max_keys_per_delete: s.int({
    default: 50,
    min: 1,
    max: 100,
    description:
      'keys removed per `DELETE …/data/{collection}?query=` request (the query travels in the URL, ~70 bytes per key)',
  }),
};

export const splunkKvSchema = {
  ...connection,
  app: name('app that holds the collection', 'search'),
  collection: name('KV store collection; created with its fields by the sink when missing', 'stixgate_indicators'),
  ...kvKeys,
  enforce_types: s.bool({
    default: false,
    description:
      'create the collection with enforceTypes (documents with an untypeable field are refused instead of losing that field)',
  }),
  replicate: s.bool({
    default: false,
    description: 'create the collection with replicate = true (the lookup is available on the indexers)',
  }),
};

export const splunkEsSchema = {
  ...connection,
  app: name('app of the ES threat-intel collections', 'DA-ESS-ThreatIntelligence'),
  ...kvKeys,
};

export const splunkHecSchema = {
  url: url('HEC URL, e.g. https://splunk.example:8088 (a trailing /services/collector… is ignored)'),
  token: s.string({
    secret: true,
    minLength: 1,
    description: 'HEC token (a GUID), sent as `Authorization: Splunk <token>`',
  }),
  index: s.string({
    optional: true,
    pattern: /^[a-z0-9_][a-z0-9_-]*$/,
    patternHint: 'lower-case letters, digits, "_" and "-"',
    description: "index of the events (default: the token's default index)",
  }),
  sourcetype: s.string({ default: 'stixgate:indicator', minLength: 1, description: 'sourcetype of the events' }),
  source: s.string({ default: 'stixgate', minLength: 1, description: 'source of the events' }),
  host: s.string({ optional: true, minLength: 1, description: "host of the events (default: the HEC endpoint's)" }),
  use_ack: s.bool({
    default: false,
    description:
      'indexer acknowledgement: events count as delivered only once the indexers acknowledged them (the token must have useACK enabled)',
  }),
  ack_timeout_secs: s.number({
    default: 120,
    min: 0.01,
    max: 3600,
    description: 'how long a batch waits for its acknowledgement before it is sent again',
  }),
  ack_poll_interval_ms: s.int({
    default: 1000,
    min: 5,
    max: 60_000,
    description: 'pause between acknowledgement queries',
  }),
  max_events_per_request: s.int({ default: 5000, min: 1, max: 5000, description: 'events per request' }),
  max_request_bytes: s.int({
    default: 100 * 1024 * 1024,
    min: 1024,
    max: 838_860_800,
    description: "bytes per request (Splunk's limits.conf max_content_length is 838860800)",
  }),
  max_event_bytes: s.int({
    default: 5 * 1024 * 1024,
    min: 256,
    max: 838_860_800,
    description:
      'largest event sent (inputs.conf maxEventSize, 5 MB); larger events are rejected to the dead-letter file',
  }),
};

const kvObj = s.object(splunkKvSchema);
const esObj = s.object(splunkEsSchema);
const hecObj = s.object(splunkHecSchema);
export type SplunkKvConfig = Infer<typeof kvObj>;
export type SplunkEsConfig = Infer<typeof esObj>;
/** `index` and `host` may be absent (the token's default index, the endpoint's host). */
export type SplunkHecConfig = Omit<Infer<typeof hecObj>, 'index' | 'host'> & { index?: string; host?: string };

export const SPLUNK_SECRET_PATHS = ['auth.token', 'auth.bearer_token', 'auth.password'];
