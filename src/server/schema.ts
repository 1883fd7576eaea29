import { createHash } from 'node:crypto';
import { defaultOf, s, type Infer, type Schema } from '../core/schema.js';
import { TLP_LEVELS } from '../core/stix.js';

/** Scopes a key may hold: each names routes that exist (README "HTTP API"). */
export const API_SCOPES = ['admin', 'edl', 'ingest', 'lookup', 'metrics', 'search', 'sightings', 'taxii'] as const;
export type ApiScope = (typeof API_SCOPES)[number];
/**
 * Scopes announced for features that have no route yet. They are refused at start-up until a
 * route uses them, so that a key never holds a permission nobody can read the meaning of.
 */
export const RESERVED_SCOPES: Readonly<Record<string, string>> = {};

const MIB = 1024 * 1024;

const baseScope = s.enum(API_SCOPES);
/** One scope: a known one, or an error naming why a reserved one is refused, or a "did you mean". */
const scopeSchema: Schema<ApiScope> = {
  ...baseScope,
  parse(v, path, issues) {
    if (typeof v === 'string' && Object.hasOwn(RESERVED_SCOPES, v)) {
      issues.push({
        path,
        message: `scope "${v}" is reserved for ${RESERVED_SCOPES[v]}, which has no route yet; known scopes: ${API_SCOPES.join(', ')}`,
      });
      return undefined;
    }
    return baseScope.parse(v, path, issues);
  },
};

const cidrList = (description: string) =>
  s.array(s.string({ maxLength: 64, description: 'IP address or CIDR' }), { default: [], maxItems: 1000, description });

const bucketSchema = (rate: number, burst: number, what: string) =>
  s.object(
    {
      requests_per_sec: s.number({
        default: rate,
        min: 0.001,
        max: 1_000_000,
        description: `tokens added per second to each ${what}'s bucket`,
      }),
      burst: s.int({
        default: burst,
        min: 1,
        max: 10_000_000,
        description: `bucket size: requests a ${what} may send at once after being idle`,
      }),
    },
    { default: { requests_per_sec: rate, burst }, description: `token bucket per ${what}` },
  );

export const rateLimitSchema = s.object(
  {
    enabled: s.bool({ default: true, description: 'refuse requests over the limits below with 429 and Retry-After' }),
    per_key: bucketSchema(50, 100, 'API key'),
    per_address: bucketSchema(100, 200, 'client address'),
    max_addresses: s.int({
      default: 10_000,
      min: 100,
      max: 10_000_000,
      description: 'client addresses tracked at once (least recently seen dropped first; bounds memory)',
    }),
  },
  {
    default: {
      enabled: true,
      per_key: { requests_per_sec: 50, burst: 100 },
      per_address: { requests_per_sec: 100, burst: 200 },
      max_addresses: 10_000,
    },
    description:
      'request rate limits (every request takes a token from its address bucket; a request with a key also from its key bucket)',
  },
);

export const consoleSchema = s.object(
  {
    enabled: s.bool({
      default: true,
      description:
        "serve the operators' console under /console (docs/console.md): HTML pages signed in with an API key",
    }),
    session_ttl_secs: s.int({
      default: 28_800,
      min: 60,
      max: 604_800,
      description: "a console sign-in lasts this long (the key's own expiry and networks still apply)",
    }),
    session_secret: s.string({
      optional: true,
      secret: true,
      minLength: 32,
      maxLength: 1024,
      description:
        'key sealing console session cookies (a secret reference, 32+ characters); give every instance behind one address the same one, so a sign-in survives a restart and another instance accepts it (default: a random key per process)',
    }),
  },
  {
    // none: sessions are sealed with a random key per process (the schema types do not model optional keys)
    default: { enabled: true, session_ttl_secs: 28_800, session_secret: undefined as unknown as string },
    description: "the operators' console (docs/console.md)",
  },
);

export const apiKeySchema = s.object({
  hash: s.string({
    pattern: /^sha256:[0-9a-f]{64}$/,
    patternHint: 'must be "sha256:" followed by 64 lower-case hex digits (see `stixgate hash-key`)',
    description: 'SHA-256 of the key; the key itself is never stored in the configuration',
  }),
  scopes: s.array(scopeSchema, { minItems: 1, description: `what the key may call: ${API_SCOPES.join(', ')}` }),
  max_tlp: s.enum(TLP_LEVELS, { default: 'amber', description: 'most restrictive TLP the key may read' }),
  expires: s.string({
    optional: true,
    pattern: /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/,
    patternHint: 'must be an ISO 8601 date or date-time with a time zone, e.g. 2027-01-31 or 2027-01-31T12:00:00Z',
    description: 'the key is refused (401, as an unknown key) from this instant on',
  }),
  allowed_networks: cidrList(
    'the key is accepted only from these addresses or CIDRs (empty: from anywhere); elsewhere it is refused as an unknown key',
  ),
  rate_limit: s.object(
    {
      requests_per_sec: s.number({ min: 0.001, max: 1_000_000 }),
      burst: s.int({ min: 1, max: 10_000_000 }),
    },
    { optional: true, description: "this key's own token bucket, in place of `server.rate_limit.per_key`" },
  ),
});

export const serverSchema = s.object(
  {
    listen_host: s.string({
      default: '127.0.0.1',
      description:
        'address to listen on; a non-loopback address needs `api_keys` or an explicit `anonymous_lookup` (docs/access.md)',
    }),
    port: s.int({ default: 8080, min: 0, max: 65535 }),
    body_limit_bytes: s.int({
      default: MIB,
      min: 1024,
      max: 256 * MIB,
      description: 'largest request body accepted (413 above)',
    }),
    ingest_body_limit_bytes: s.int({
      default: 16 * MIB,
      min: 1024,
      max: 1024 * MIB,
      description: 'largest document `POST /api/v1/ingest` accepts (413 above); it is held in memory while it is read',
    }),
    max_batch_size: s.int({
      default: 1000,
      min: 1,
      max: 100_000,
      description: 'most values in one lookup request (400 above)',
    }),
    max_url_bytes: s.int({
      default: 8192,
      min: 256,
      max: 65536,
      description: 'longest request target (path and query) accepted (414 above)',
    }),
    max_header_bytes: s.int({
      default: 16384,
      min: 1024,
      max: 65536,
      description: 'largest request head (request line and headers) accepted (431 above)',
    }),
    max_connections: s.int({
      default: 1024,
      min: 1,
      max: 1_000_000,
      description: 'open client connections at most; connections over the cap are closed on accept',
    }),
    request_timeout_secs: s.int({
      default: 30,
      min: 1,
      max: 3600,
      description: 'deadline for receiving a whole request',
    }),
    headers_timeout_secs: s.int({
      default: 10,
      min: 1,
      max: 600,
      description: 'deadline for receiving the request headers (408 and close after it)',
    }),
    keep_alive_timeout_secs: s.int({
      default: 5,
      min: 1,
      max: 600,
      description: 'idle keep-alive connections are closed after this',
    }),
    trusted_proxies: cidrList(
      'proxies (addresses or CIDRs) whose X-Forwarded-For/-Host/-Proto are honoured; from any other peer these headers are ignored',
    ),
    rate_limit: rateLimitSchema,
    metrics_public: s.bool({
      default: false,
      description: 'serve /metrics without a key (otherwise a key with the `metrics` scope is needed)',
    }),
    anonymous_lookup: s.bool({
      default: false,
      description: 'allow lookups without a key (answers TLP:CLEAR indicators only)',
    }),
    api_keys: s.record(apiKeySchema, { default: {}, description: 'API keys by id' }),
    cursor_secret: s.string({
      optional: true,
      secret: true,
      minLength: 32,
      maxLength: 1024,
      description:
        'key sealing search paging cursors (a secret reference, 32+ characters); give every instance serving one store the same one, so a cursor from one is accepted by another and after a restart (default: a random key per process)',
    }),
    console: consoleSchema,
  },
  {
    default: {
      listen_host: '127.0.0.1',
      port: 8080,
      body_limit_bytes: MIB,
      ingest_body_limit_bytes: 16 * MIB,
      max_batch_size: 1000,
      max_url_bytes: 8192,
      max_header_bytes: 16384,
      max_connections: 1024,
      request_timeout_secs: 30,
      headers_timeout_secs: 10,
      keep_alive_timeout_secs: 5,
      trusted_proxies: [],
      rate_limit: defaultOf(rateLimitSchema),
      metrics_public: false,
      anonymous_lookup: false,
      api_keys: {},
      // none: cursors are sealed with a random key per process (the schema types do not model optional keys)
      cursor_secret: undefined as unknown as string,
      console: defaultOf(consoleSchema),
    },
  },
);

export type ServerConfig = Infer<typeof serverSchema>;
type ApiKeyOptional = 'expires' | 'allowed_networks' | 'rate_limit';
/** A key as validated; the optional settings may be left out when a key is built in code. */
export type ApiKeyConfig = Omit<Infer<typeof apiKeySchema>, ApiKeyOptional> &
  Partial<Pick<Infer<typeof apiKeySchema>, ApiKeyOptional>>;
export type RateLimitConfig = Infer<typeof rateLimitSchema>;
export type ConsoleConfig = Infer<typeof consoleSchema>;

/** The configuration form of an API key: `sha256:` + hex SHA-256 of its UTF-8 bytes. */
export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}
