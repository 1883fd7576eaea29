import { s, type Infer } from '../../core/schema.js';

export const REMOTE_LOOKUP_DEFAULTS = {
  enabled: true,
  filter_capacity: 10_000_000,
  filter_fp_rate: 0.001,
  cache_mb: 64,
  fetch_limit: 1000,
  filter_rebuild_stale_share: 0.1,
};

/** `lookup.remote:` the OpenSearch store's lookups (docs/adr/0024-remote-lookups.md). */
export const remoteLookupSchema = s.object(
  {
    enabled: s.bool({
      default: true,
      description:
        'OpenSearch store: answer lookups from OpenSearch behind an in-process negative filter and hot cache, holding no per-indicator index (false: every instance keeps the whole lookup index in memory)',
    }),
    filter_capacity: s.int({
      default: REMOTE_LOOKUP_DEFAULTS.filter_capacity,
      min: 1000,
      max: 1_000_000_000,
      description:
        'distinct listed values the negative filter is sized for (its memory: about 1.8 MB per million at fp_rate 0.001); past it only the false-positive rate rises',
    }),
    filter_fp_rate: s.number({
      default: REMOTE_LOOKUP_DEFAULTS.filter_fp_rate,
      min: 0.000001,
      max: 0.5,
      description: "the filter's false-positive rate per tested value at `filter_capacity` values",
    }),
    filter_rebuild_stale_share: s.number({
      default: REMOTE_LOOKUP_DEFAULTS.filter_rebuild_stale_share,
      min: 0,
      max: 1,
      description:
        'rebuild the negative filter from the store in the background when the values of revoked or expired indicators still in it pass this share of `filter_capacity` (or its fill passes the capacity while the live values fit); 0: never',
    }),
    cache_mb: s.int({
      default: REMOTE_LOOKUP_DEFAULTS.cache_mb,
      min: 0,
      max: 65536,
      description: 'bytes of fetched indicators the hot cache keeps (0: none)',
    }),
    fetch_limit: s.int({
      default: REMOTE_LOOKUP_DEFAULTS.fetch_limit,
      min: 100,
      max: 10000,
      description: 'most indicators fetched from the store per looked-up value',
    }),
  },
  { default: REMOTE_LOOKUP_DEFAULTS },
);

export type RemoteLookupConfig = Infer<typeof remoteLookupSchema>;
