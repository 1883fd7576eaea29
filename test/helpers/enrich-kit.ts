import assert from 'node:assert/strict';
import { indicatorIdForPattern } from '../../src/core/ids.js';
import type { StixObject } from '../../src/core/stix.js';
import { validate } from '../../src/core/schema.js';
import type { EnrichRunOptions } from '../../src/enrich/runner.js';
import { buildEnrichersSchema, type CommonEnricherConfig } from '../../src/enrich/schema.js';
import { loopbackHttp, tempStore, type TempStore } from './enrich-loopback.js';
import type { EnricherDefinition } from '../../src/enrich/types.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { must } from './must.js';

/** Set-up shared by the enricher tests that drive a vendor simulator (AbuseIPDB, VirusTotal). */

/** A plain STIX indicator for `pattern`, created an hour before `at`. */
export function patternIndicator(pattern: string, at: number): StixObject {
  const ts = new Date(at - 3_600_000).toISOString();
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: indicatorIdForPattern(pattern),
    created: ts,
    modified: ts,
    pattern,
    pattern_type: 'stix',
    valid_from: ts,
  };
}

export interface EnricherSetup<S> {
  sim: S;
  base: string;
  t: TempStore;
  /** The enricher's config as the engine's schema validated it. */
  config: CommonEnricherConfig & Record<string, unknown>;
  /** Run options for runEnricher (`over` replaces any of them). */
  opts: (over?: Partial<EnrichRunOptions>) => EnrichRunOptions;
}

export interface EnricherSpec<S> {
  sim: S;
  definition: EnricherDefinition;
  /** The enricher id (its key under `enrichers`). */
  id: string;
  service: string;
  /** Config keys besides type, url (the simulator) and allow_private/allow_insecure (true). */
  config: Record<string, unknown>;
  /** The run options that depend on the test (quota, cache, limits), given the validated config. */
  run: (
    config: CommonEnricherConfig & Record<string, unknown>,
  ) => Pick<EnrichRunOptions, 'quota' | 'cacheTtlMs' | 'maxPerRun'> & Partial<EnrichRunOptions>;
}

/**
 * Starts the simulator, a temporary store and a loopback HttpClient, validates the enricher's config
 * through the engine's schema, and runs `fn`; everything is closed afterwards.
 */
export async function withEnricher<S extends { start(): Promise<{ base: string }>; close(): Promise<void> }>(
  spec: EnricherSpec<S>,
  fn: (s: EnricherSetup<S>) => Promise<void>,
): Promise<void> {
  const { sim, definition, id, service } = spec;
  const { base } = await sim.start();
  const t = await tempStore();
  const http = loopbackHttp(`${service}-test`);
  try {
    const v = validate(buildEnrichersSchema([definition]), {
      [id]: { type: definition.type, url: base, allow_private: true, allow_insecure: true, ...spec.config },
    });
    assert.ok(v.ok, JSON.stringify(!v.ok && v.issues));
    const config = must(v.value[id], 'v.value[id]');
    const enricher = definition.create(config as never, { logger: silentLogger(), configDir: '.', mappingsDir: '.' });
    const run = spec.run(config);
    const opts = (over: Partial<EnrichRunOptions> = {}): EnrichRunOptions => ({
      id,
      service,
      enricher,
      store: t.store,
      http,
      logger: silentLogger(),
      now: () => Date.now(),
      signal: new AbortController().signal,
      ...run,
      ...over,
    });
    await fn({ sim, base, t, config, opts });
  } finally {
    await http.close();
    await t.cleanup();
    await sim.close();
  }
}
