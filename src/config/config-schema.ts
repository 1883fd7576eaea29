import { edlSchema } from '../edl/schema.js';
import { s, type Schema, type Infer } from '../core/schema.js';
import { TLP_LEVELS, OBSERVABLE_TYPES } from '../core/stix.js';
import { serverSchema } from '../server/schema.js';
import { taxiiSchema } from '../server/taxii/schema.js';
import type { IntegrationDefinition } from './registry.js';
import type { CommonSourceConfig } from '../pipeline/types.js';
import type { CommonSinkConfig } from '../delivery/types.js';
import { opensearchStoreSchema, type OpenSearchStoreConfig } from '../store/opensearch/schema.js';
import { DEFAULT_RETENTION, retentionSchema } from '../store/retention.js';
import { filterConfigSchema, trustedSourceSchema } from '../filter/schema.js';
import { correlationSchema } from '../correlate/schema.js';
import { REMOTE_LOOKUP_DEFAULTS, remoteLookupSchema } from '../lookup/remote/schema.js';
import { scoringSchema } from '../score/schema.js';
import { buildEnrichersSchema } from '../enrich/schema.js';
import { networkSchema } from '../http/network.js';
import { BAD_RATIO_MIN_RECORDS } from '../pipeline/input.js';

/** Keys every source accepts (CommonSourceConfig); the engine applies them. */
/** Default shutdown grace: under the 10 s a container runtime waits between SIGTERM and SIGKILL. */
export const DEFAULT_SHUTDOWN_SECS = 8;

export const commonSourceSchema = {
  type: s.string({ description: 'integration type id (see `stixgate types`)' }),
  enabled: s.bool({ default: true, description: 'set false to keep the entry but never run it' }),
  schedule: s.string({ optional: true, description: 'cron expression (5 or 6 fields), evaluated in `timezone`' }),
  interval_secs: s.int({
    optional: true,
    min: 60,
    max: 31 * 86400,
    description: 'run every N seconds (alternative to `schedule`; 3600 when neither is set, with a warning)',
  }),
  timezone: s.string({ optional: true, description: 'IANA time zone for `schedule` (default UTC)' }),
  run_on_start: s.bool({ default: true, description: 'run once shortly after start-up' }),
  confidence: s.int({
    optional: true,
    min: 0,
    max: 100,
    description: 'confidence (0-100) given to objects that carry none',
  }),
  tlp: s.enum(TLP_LEVELS, {
    optional: true,
    description: "TLP of this source's contribution to objects that carry no TLP marking (default: `default_tlp`)",
  }),
  labels: s.array(s.string({ maxLength: 256 }), {
    default: [],
    maxItems: 100,
    description: 'labels added to every indicator from this source',
  }),
  valid_days: s.number({
    optional: true,
    min: 0.01,
    max: 36500,
    description: 'days an indicator stays valid after it was last seen, when the source gives no valid_until',
  }),
  timeout_secs: s.int({
    default: 120,
    min: 1,
    max: 3600,
    description: 'deadline for one HTTP exchange, body included',
  }),
  max_feed_bytes: s.int({
    default: 256 * 1024 * 1024,
    min: 1024,
    max: 8 * 1024 * 1024 * 1024,
    description: 'cap on (decompressed) bytes read per document',
  }),
  allow_private: s.bool({ default: false, description: 'allow loopback/private/link-local destinations' }),
  allow_insecure: s.bool({ default: false, description: 'allow plain http:// and user:pass@ URLs' }),
  ...networkSchema,
  max_bad_ratio: s.number({
    default: 0.2,
    min: 0,
    max: 1,
    description: 'reject a document when more than this share of its records are invalid',
  }),
  bad_ratio_min_records: s.int({
    default: BAD_RATIO_MIN_RECORDS,
    min: 1,
    max: 1_000_000,
    description:
      'max_bad_ratio is judged only for documents with at least this many records; in a smaller document each bad record is rejected on its own and the rest are kept',
  }),
  min_prefix: s.object(
    {
      ipv4: s.int({
        default: 8,
        min: 1,
        max: 32,
        description: 'IPv4 ranges wider than this prefix are rejected (reason cidr_too_wide)',
      }),
      ipv6: s.int({
        default: 16,
        min: 1,
        max: 128,
        description: 'IPv6 ranges wider than this prefix are rejected (reason cidr_too_wide)',
      }),
    },
    {
      default: { ipv4: 8, ipv6: 16 },
      description:
        'widest CIDR range accepted from this source (a /0 is always rejected); raise it for blocklists that feed firewalls',
    },
  ),
  ...trustedSourceSchema,
  rate_limit: s.object(
    { max_per_minute: s.number({ min: 0.1, max: 6000, description: 'requests started per minute at most' }) },
    {
      optional: true,
      description:
        "client-side rate limit on this source's requests (bottleneck); retries wait inside their slot, so no burst follows a Retry-After. Sources of rate-limited APIs set their own default",
    },
  ),
  retry: s.object(
    {
      max_attempts: s.int({ default: 4, min: 1, max: 20 }),
      base_delay_secs: s.number({ default: 1, min: 0.01, max: 600 }),
      max_delay_secs: s.number({ default: 60, min: 0.1, max: 3600 }),
    },
    {
      default: { max_attempts: 4, base_delay_secs: 1, max_delay_secs: 60 },
      description: 'HTTP retries with exponential back-off and full jitter; Retry-After is honoured',
    },
  ),
};

/** Keys every sink accepts (CommonSinkConfig); the engine applies them (src/delivery/runner.ts). */
export const commonSinkSchema = {
  type: s.string({ description: 'integration type id (see `stixgate types`)' }),
  enabled: s.bool({ default: true, description: 'set false to keep the entry but never push' }),
  schedule: s.string({ optional: true, description: 'cron expression (5 or 6 fields), evaluated in `timezone`' }),
  interval_secs: s.int({
    optional: true,
    min: 1,
    max: 86400,
    description: 'push every N seconds (default 30; alternative to `schedule`)',
  }),
  timezone: s.string({ optional: true, description: 'IANA time zone for `schedule` (default UTC)' }),
  max_tlp: s.enum(TLP_LEVELS, {
    default: 'green',
    description:
      "TLP ceiling: the sink receives each indicator's contributions at or below it (docs/access.md); red only when set explicitly",
  }),
  filters: s.object(
    {
      types: s.array(s.enum(OBSERVABLE_TYPES), { default: [], description: 'observable types pushed (empty: all)' }),
      min_score: s.int({
        default: 0,
        min: 0,
        max: 100,
        description: 'indicators scoring below this are not pushed (and removed when their score decays below it)',
      }),
      labels: s.array(s.string({ maxLength: 256 }), {
        default: [],
        description: 'push only indicators carrying one of these labels (empty: all)',
      }),
      exclude_labels: s.array(s.string({ maxLength: 256 }), {
        default: [],
        description: 'never push indicators carrying one of these labels',
      }),
      sources: s.array(s.string({ maxLength: 128 }), {
        default: [],
        description: 'push only indicators delivered by one of these sources (empty: all)',
      }),
    },
    {
      default: { types: [], min_score: 0, labels: [], exclude_labels: [], sources: [] },
      description: 'what this sink receives',
    },
  ),
  mapping: s.string({
    optional: true,
    description: 'field mapping table (YAML, relative to this file); default mappings/sinks/<type>.yaml',
  }),
  batch_size: s.int({
    optional: true,
    min: 1,
    max: 100000,
    description: 'records per request (never above the vendor limit the integration declares)',
  }),
  concurrency: s.int({
    optional: true,
    min: 1,
    max: 32,
    description: "requests in flight at once (never above the integration's limit)",
  }),
  max_in_flight_records: s.int({
    default: 2000,
    min: 1,
    max: 1_000_000,
    description:
      'records sent but not yet acknowledged and committed, at most: batch size × concurrency is lowered to fit, so a crash during a push repeats at most this many (docs/sinks.md)',
  }),
  refresh_days: s.number({
    optional: true,
    min: 0.01,
    max: 3650,
    description:
      'remote expiry refresh: re-send every still-valid value at least this often, so the remote side never ages it out (default: half the time to live the sink declares, e.g. QRadar `ttl_days`; none: no refresh; docs/sinks.md)',
  }),
  refresh_max_per_run: s.int({
    default: 20_000,
    min: 1,
    max: 10_000_000,
    description: 'indicators the remote expiry refresh looks at per run (a cycle over the store spans several runs)',
  }),
  rate_limit: s.object(
    { max_per_minute: s.number({ min: 0.1, max: 60000, description: 'requests started per minute at most' }) },
    { optional: true, description: "client-side rate limit on this sink's requests (bottleneck)" },
  ),
  timeout_secs: s.int({ default: 60, min: 1, max: 3600, description: 'deadline for one request' }),
  allow_private: s.bool({
    default: true,
    description:
      'allow loopback/private/link-local destinations (a sink is a configured destination, often on the internal network; set false to apply the SSRF policy)',
  }),
  allow_insecure: s.bool({ default: false, description: 'allow plain http://' }),
  ...networkSchema,
  reconcile: s.object(
    {
      schedule: s.string({ optional: true, description: "cron expression (5 or 6 fields) in the sink's `timezone`" }),
      interval_secs: s.int({
        optional: true,
        min: 60,
        max: 2_592_000,
        description: 'reconcile every N seconds (default 86400 when no `schedule`)',
      }),
      apply: s.bool({
        default: true,
        description:
          'repair the drift found; false only measures it (the `stixgate_sink_drift_items` gauges), as `stixgate plan` does',
      }),
    },
    {
      optional: true,
      description:
        "a scheduled reconcile of the sink (docs/reconcile.md): read what the product holds, compare with the sink's view of the store, repair the difference; runs in the push job's slot, never beside a push",
    },
  ),
  retry: s.object(
    {
      max_attempts: s.int({ default: 6, min: 1, max: 50 }),
      base_delay_secs: s.number({ default: 1, min: 0.01, max: 600 }),
      max_delay_secs: s.number({ default: 60, min: 0.1, max: 3600 }),
    },
    {
      default: { max_attempts: 6, base_delay_secs: 1, max_delay_secs: 60 },
      description:
        'batch retries with exponential back-off and full jitter; Retry-After is honoured; a run that runs out of attempts ends and the next run resumes from the cursor',
    },
  ),
};

const EMBEDDED_DEFAULTS = {
  type: 'embedded' as const,
  sync: 'full' as const,
  seen_granularity_secs: 3600,
  cache_mb: 256,
  retention: DEFAULT_RETENTION,
};

export const embeddedStoreSchema = s.object(
  {
    type: s.enum(['embedded'] as const, {
      default: 'embedded',
      description: 'store backend: `embedded` (SQLite in data_dir) or `opensearch` (docs/opensearch.md)',
    }),
    sync: s.enum(['normal', 'full'] as const, {
      default: 'full',
      description:
        '`full` syncs every commit, so acknowledged data survives power loss; `normal` syncs at checkpoints only (faster; a power cut may lose the last acknowledged batches)',
    }),
    seen_granularity_secs: s.int({
      default: 3600,
      min: 0,
      max: 7 * 86400,
      description: 'last_seen / valid_until move only by more than this, so re-polls write nothing',
    }),
    cache_mb: s.int({
      default: 256,
      min: 8,
      max: 65536,
      description:
        'SQLite page cache (reads of stored objects; ids and values are indexed in memory beside it, about 20-40 bytes per object)',
    }),
    retention: retentionSchema,
  },
  { default: EMBEDDED_DEFAULTS },
);

export type EmbeddedStoreConfig = Infer<typeof embeddedStoreSchema>;
export type StoreConfig = EmbeddedStoreConfig | OpenSearchStoreConfig;

/** `store:` picks its backend with `type:`; each backend has its own keys. */
export const storeSchema = s.tagged<StoreConfig>(
  (t) => (t === 'embedded' ? embeddedStoreSchema : t === 'opensearch' ? opensearchStoreSchema : undefined),
  () => ['embedded', 'opensearch'],
  {
    default: EMBEDDED_DEFAULTS,
    description: 'the store backend',
  },
);

export const lookupSchema = s.object(
  {
    follow_interval_ms: s.int({
      default: 500,
      min: 50,
      max: 60000,
      description: 'how often the lookup index applies new change-log entries',
    }),
    match_parent_domains: s.bool({ default: true, description: 'a host also matches listed parent domains' }),
    snapshot: s.bool({
      default: true,
      description:
        'embedded store: restore the lookup index at start from `<data_dir>/lookup.snapshot` (written while running and at a clean stop) instead of reading every active indicator (docs/adr/0020-lookup-snapshot.md)',
    }),
    snapshot_interval_mins: s.int({
      default: 15,
      min: 0,
      max: 1440,
      description: 'how often the lookup index snapshot is written while running (0: only at a clean stop)',
    }),
    remote: remoteLookupSchema,
  },
  {
    default: {
      follow_interval_ms: 500,
      match_parent_domains: true,
      snapshot: true,
      snapshot_interval_mins: 15,
      remote: REMOTE_LOOKUP_DEFAULTS,
    },
  },
);

export function buildConfigSchema(registry: readonly IntegrationDefinition[]) {
  const sourceSchemas = new Map<string, Schema<CommonSourceConfig & Record<string, unknown>>>();
  const sinkSchemas = new Map<string, Schema<CommonSinkConfig & Record<string, unknown>>>();
  for (const def of registry) {
    if (def.kind === 'source') sourceSchemas.set(def.type, s.object({ ...commonSourceSchema, ...def.schema }));
    else if (def.kind === 'sink') sinkSchemas.set(def.type, s.object({ ...commonSinkSchema, ...def.schema }));
  }
  return s.object({
    data_dir: s.string({
      default: './data',
      description: 'embedded store directory (relative to the working directory)',
    }),
    log_level: s.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, { default: 'info' }),
    shutdown_timeout_secs: s.int({
      default: DEFAULT_SHUTDOWN_SECS,
      min: 1,
      max: 600,
      description:
        'on SIGTERM, in-flight runs get 3/4 of this to finish, are then aborted (committing nothing further) and the process exits within it; keep it under the container stop timeout (10 s by default)',
    }),
    expire_interval_secs: s.int({
      default: 60,
      min: 1,
      max: 86400,
      description: 'how often valid_until expiry is applied',
    }),
    min_interval_secs: s.int({ default: 300, min: 1, max: 86400, description: 'shortest schedule a source may have' }),
    lease_ttl_secs: s.int({
      default: 60,
      min: 5,
      max: 3600,
      description:
        'scheduled jobs run under a store lease so that, on a shared store, each runs on one instance at a time; a dead holder is replaced after this',
    }),
    default_tlp: s.enum(TLP_LEVELS, {
      default: 'amber',
      description:
        'TLP of a contribution whose object carries no TLP marking and whose source sets no `tlp` (docs/access.md)',
    }),
    allow_red: s.bool({
      default: false,
      description: 'store TLP:RED objects (never served or pushed without an explicit key/sink policy)',
    }),
    allowlist: s.array(s.string({ maxLength: 2048 }), {
      default: [],
      description:
        'values never ingested as indicators: IPs, CIDRs (containment), domains (and their subdomains), URLs, hashes',
    }),
    ...filterConfigSchema,
    store: storeSchema,
    server: serverSchema,
    taxii: taxiiSchema,
    lookup: lookupSchema,
    edl: edlSchema,
    correlation: correlationSchema,
    scoring: scoringSchema,
    sources: s.record(
      s.tagged(
        (t) => sourceSchemas.get(t),
        () => [...sourceSchemas.keys()].sort(),
      ),
      { default: {}, description: 'feeds to poll, by id' },
    ),
    sinks: s.record(
      s.tagged(
        (t) => sinkSchemas.get(t),
        () => [...sinkSchemas.keys()].sort(),
      ),
      {
        default: {},
        description: 'systems to push indicators to, by id (each consumes the change log from its own cursor)',
      },
    ),
    enrichers: buildEnrichersSchema(registry),
    cli: s.object(
      {
        url: s.string({
          optional: true,
          pattern: /^https?:\/\/[^\s]+$/,
          patternHint: 'must be an http:// or https:// URL',
          description:
            'the running daemon the CLI talks to when the store is locked by it (default: the address in `<data_dir>/daemon.json`)',
        }),
        api_key: s.string({
          optional: true,
          description:
            'the key the CLI sends to the daemon (a key with the `admin`, `lookup` and `ingest` scopes); write it as a `${ENV_VAR}` or `${file:/path}` reference',
        }),
      },
      // both keys are optional: the inferred type reads them as strings, callers test them for presence
      {
        default: {} as { url: string; api_key: string },
        description:
          'how `lookup`, `stats`, `push` and `ingest` reach a running daemon (README "The CLI and a running daemon")',
      },
    ),
  });
}

export type StixgateConfig = Infer<ReturnType<typeof buildConfigSchema>>;
