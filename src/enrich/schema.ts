import { s, type Schema } from '../core/schema.js';
import { TLP_LEVELS, type TlpLevel } from '../core/stix.js';
import { DEFAULT_ENRICHER_CEILING } from '../access/policy.js';
import { singleAttemptPolicy } from '../pipeline/components.js';
import type { EnricherDefinition } from './types.js';
import type { HttpPolicy } from '../http/types.js';
import { networkSchema, type NetworkConfig } from '../http/network.js';
import type { RegistryEntry } from '../pipeline/types.js';
import type { EnrichRunOptions } from './runner.js';

/**
 * The `enrichers:` top-level map: id → { type, enabled, interval_secs, quota, cache_ttl_hours, … }
 * plus the integration's own keys (url, api_key, …). docs/enrichment.md lists them.
 */

/** Keys every enricher accepts; `quota` defaults to the service's free tier (`defaultQuota`). */
export function commonEnricherSchema(defaultQuota: { per_minute?: number; per_day?: number }) {
  return {
    type: s.string({ description: 'enricher type id (virustotal, abuseipdb, shodan, rdap, passive_dns)' }),
    enabled: s.bool({ default: true, description: 'set false to keep the entry but never run it' }),
    interval_secs: s.int({
      default: 300,
      min: 10,
      max: 86_400,
      description: 'how often the enricher reads the change log',
    }),
    run_on_start: s.bool({ default: true, description: 'run once shortly after start-up' }),
    quota: s.object(
      {
        per_minute: s.number({
          min: 0.1,
          max: 60_000,
          ...(defaultQuota.per_minute !== undefined ? { default: defaultQuota.per_minute } : { optional: true }),
          description: 'requests per sliding minute at most (unset: no per-minute cap)',
        }),
        per_day: s.int({
          min: 1,
          max: 100_000_000,
          ...(defaultQuota.per_day !== undefined ? { default: defaultQuota.per_day } : { optional: true }),
          description: 'requests per UTC day at most, kept across restarts (unset: no daily cap)',
        }),
      },
      {
        default: { ...defaultQuota } as { per_minute: number; per_day: number },
        description: "client-side quota on the service's requests; the defaults are the service's free tier",
      },
    ),
    cache_ttl_hours: s.number({
      default: 24,
      min: 0,
      max: 24 * 365,
      description: 'a value looked up less than this long ago is not looked up again',
    }),
    cache_size: s.int({
      default: 10_000,
      min: 1,
      max: 10_000_000,
      description: 'lookup records kept in memory (the store keeps all of them)',
    }),
    max_per_run: s.int({ default: 100, min: 1, max: 1_000_000, description: 'lookups one run makes at most' }),
    max_run_secs: s.int({
      default: 300,
      min: 1,
      max: 86_400,
      description: 'a run takes no new lookup after this long',
    }),
    max_tlp: s.enum(TLP_LEVELS, {
      default: DEFAULT_ENRICHER_CEILING,
      description:
        'a value is sent to the service only when a contribution at or below this TLP lists it (docs/access.md)',
    }),
    concurrency: s.int({ default: 1, min: 1, max: 32, description: 'lookups in flight at once' }),
    timeout_secs: s.int({ default: 30, min: 1, max: 600, description: 'deadline for one HTTP exchange' }),
    allow_private: s.bool({
      default: false,
      description: 'allow loopback/private/link-local destinations (simulators, lab services)',
    }),
    allow_insecure: s.bool({ default: false, description: 'allow plain http://' }),
    ...networkSchema,
  };
}

export interface CommonEnricherConfig extends NetworkConfig {
  type: string;
  enabled: boolean;
  interval_secs: number;
  run_on_start: boolean;
  quota: { per_minute?: number; per_day?: number };
  cache_ttl_hours: number;
  cache_size: number;
  max_per_run: number;
  max_run_secs: number;
  max_tlp: TlpLevel;
  concurrency: number;
  timeout_secs: number;
  allow_private: boolean;
  allow_insecure: boolean;
}

/** The schema of `enrichers:` for the enricher definitions of `registry`. */
export function buildEnrichersSchema(
  registry: readonly RegistryEntry[],
): Schema<Record<string, CommonEnricherConfig & Record<string, unknown>>> {
  const byType = new Map<string, Schema<CommonEnricherConfig & Record<string, unknown>>>();
  for (const def of registry.filter((d): d is EnricherDefinition => d.kind === 'enricher')) {
    // the integration's own keys come last: an integration may refine a common key (e.g. quota)
    byType.set(def.type, s.object({ ...commonEnricherSchema(def.defaultQuota), ...def.schema }));
  }
  return s.record(
    s.tagged(
      (t) => byType.get(t),
      () => [...byType.keys()].sort(),
    ),
    { default: {}, description: 'services that add context to stored indicators, by id (docs/enrichment.md)' },
  );
}

/** The HTTP policy of an enricher. Retries are off: every attempt spends quota, so the run stops and resumes instead. */
export function enricherHttpPolicy(c: CommonEnricherConfig, configDir: string): HttpPolicy {
  return singleAttemptPolicy(c, configDir, { maxBytes: 16 * 1024 * 1024, maxRedirects: 3 });
}

/** The runEnricher options a configured enricher implies (the caller adds enricher, store, http, logger, now, signal, cache). */
export function enricherRunSettings(
  def: EnricherDefinition,
  c: CommonEnricherConfig,
): Pick<
  EnrichRunOptions,
  'service' | 'quota' | 'cacheTtlMs' | 'maxPerRun' | 'maxRunMs' | 'concurrency' | 'inflightMs' | 'maxTlp'
> {
  return {
    service: def.type,
    quota: c.quota,
    cacheTtlMs: c.cache_ttl_hours * 3_600_000,
    maxPerRun: c.max_per_run,
    maxRunMs: c.max_run_secs * 1000,
    concurrency: c.concurrency,
    inflightMs: c.timeout_secs * 1000,
    maxTlp: c.max_tlp,
  };
}
