import { createHash } from 'node:crypto';
import { s, type Infer } from '../config/schema.js';
import { TLP_LEVELS } from '../core/stix.js';

export const API_SCOPES = ['lookup', 'metrics', 'admin', 'ingest', 'taxii', 'sightings'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

const MIB = 1024 * 1024;

export const apiKeySchema = s.object({
  hash: s.string({
    pattern: /^sha256:[0-9a-f]{64}$/,
    patternHint: 'must be "sha256:" followed by 64 lower-case hex digits (see `stixgate hash-key`)',
    description: 'SHA-256 of the key; the key itself is never stored in the configuration',
  }),
  scopes: s.array(s.enum(API_SCOPES), { minItems: 1, description: 'what the key may call' }),
  max_tlp: s.enum(TLP_LEVELS, { default: 'amber', description: 'most restrictive TLP the key may read' }),
});

export const serverSchema = s.object(
  {
    listen_host: s.string({ default: '127.0.0.1', description: 'address to listen on' }),
    port: s.int({ default: 8080, min: 0, max: 65535 }),
    body_limit_bytes: s.int({ default: MIB, min: 1024, max: 256 * MIB, description: 'largest request body accepted (413 above)' }),
    max_batch_size: s.int({ default: 1000, min: 1, max: 100_000, description: 'most values in one lookup request (400 above)' }),
    request_timeout_secs: s.int({ default: 30, min: 1, max: 3600, description: 'deadline for receiving a whole request' }),
    headers_timeout_secs: s.int({ default: 10, min: 1, max: 600, description: 'deadline for receiving the request headers' }),
    keep_alive_timeout_secs: s.int({ default: 5, min: 1, max: 600, description: 'idle keep-alive connections are closed after this' }),
    trust_proxy: s.bool({ default: false, description: 'honour X-Forwarded-* headers (only behind a trusted proxy)' }),
    metrics_require_auth: s.bool({ default: false, description: 'require a key with the `metrics` scope for /metrics' }),
    anonymous_lookup: s.bool({ default: false, description: 'allow lookups without a key (answers TLP:CLEAR indicators only)' }),
    api_keys: s.record(apiKeySchema, { default: {}, description: 'API keys by id' }),
  },
  {
    default: {
      listen_host: '127.0.0.1',
      port: 8080,
      body_limit_bytes: MIB,
      max_batch_size: 1000,
      request_timeout_secs: 30,
      headers_timeout_secs: 10,
      keep_alive_timeout_secs: 5,
      trust_proxy: false,
      metrics_require_auth: false,
      anonymous_lookup: false,
      api_keys: {},
    },
  },
);

export type ServerConfig = Infer<typeof serverSchema>;
export type ApiKeyConfig = Infer<typeof apiKeySchema>;

/** The configuration form of an API key: `sha256:` + hex SHA-256 of its UTF-8 bytes. */
export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}
