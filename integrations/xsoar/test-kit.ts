import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { detectObservable } from '../../src/core/observable.js';
import type { StixObject } from '../../src/core/stix.js';
import { createHttpClient, type ClosableHttpClient } from '../../src/pipeline/http.js';
import { loadSinkMapping, recordsFor } from '../../src/pipeline/sink-records.js';
import type { CommonSinkConfig, IntegrationContext, SinkRecord, SinkRunContext } from '../../src/pipeline/types.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { XsoarSimulator, type XsoarSimulatorOptions } from './simulator.js';
import type { XsoarConfig } from './schema.js';

/** Shared set-up of the XSOAR tests: simulator, run context, sink config, records. */

export const NOW = Date.parse('2026-03-01T12:00:00Z');
export const KEY = 'sim-key';
export const ADV_KEY = 'adv-secret-key';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const ictx: IntegrationContext = { logger: silentLogger(), configDir: root, mappingsDir: join(root, 'mappings') };

type After = { after: (fn: () => Promise<void> | void) => void };

export async function startSim(t: After, opts: XsoarSimulatorOptions = {}): Promise<{ sim: XsoarSimulator; base: string }> {
  const sim = new XsoarSimulator({ keys: [{ key: KEY, id: 1 }, { key: ADV_KEY, id: 2, type: 'advanced' }], tenants: ['acme'], ...opts });
  const { base } = await sim.start();
  t.after(() => sim.close());
  return { sim, base };
}

/** A run context whose HttpClient does not retry (the tests see each failure). */
export function runContext(t: After, over: { totalTimeoutMs?: number } = {}): SinkRunContext & { http: ClosableHttpClient } {
  const http = createHttpClient(
    {
      headersTimeoutMs: 5000, bodyTimeoutMs: 5000, totalTimeoutMs: over.totalTimeoutMs ?? 10_000, maxBytes: 64 << 20, maxRedirects: 0,
      allowPrivate: true, allowInsecure: true, verifyTls: true,
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 60_000 },
    },
    { component: 'xsoar-test' },
  );
  t.after(() => http.close());
  return { id: 'xsoar-test', logger: silentLogger(), http, signal: new AbortController().signal, now: NOW };
}

export function config(url: string, over: Partial<XsoarConfig & CommonSinkConfig> = {}): XsoarConfig & CommonSinkConfig {
  return {
    type: 'xsoar', enabled: true, max_tlp: 'amber', timeout_secs: 10, allow_private: true, allow_insecure: true, verify_tls: true,
    filters: { types: [], min_score: 0, labels: [], exclude_labels: [], sources: [] },
    retry: { max_attempts: 3, base_delay_secs: 0.001, max_delay_secs: 0.01 },
    url, api_key: KEY, version: 6, key_type: 'standard', max_batch_size: 2000, search_chunk: 200, source_brand: 'stixgate', source_instance: 'stixgate',
    verdict: { bad: 75, suspicious: 40 } as XsoarConfig['verdict'], pin_verdict: false, bypass_exclusion_list: false, default_expiration: 'indicatorType',
    ...over,
  } as XsoarConfig & CommonSinkConfig;
}

/** An indicator as the store holds it (score, sources) for one raw value. */
export function indicator(value: string, score: number | null = 80, extra: Partial<StixObject> = {}): StixObject {
  const r = detectObservable(value);
  if (!r.ok) throw new Error(`not an observable: ${value}`);
  const now = new Date(NOW - 60_000).toISOString();
  return {
    ...indicatorFromObservable(r.observable, { now, name: `bad ${value}` }),
    x_stixgate: { ...(score === null ? {} : { score }), sources: { feed_a: { first_seen: now, last_seen: now } } },
    ...extra,
  } as StixObject;
}

let fields: Record<string, string> | undefined;

/** The records the engine would build for these values with mappings/sinks/xsoar.yaml. */
export function records(values: string[], op: 'upsert' | 'remove' = 'upsert', score: number | null = 80, extra: Partial<StixObject> = {}): SinkRecord[] {
  fields ??= loadSinkMapping(join(ictx.mappingsDir, 'sinks', 'xsoar.yaml')).fields;
  return values.flatMap((v, i) => recordsFor(indicator(v, score, extra), i + 1, op, op === 'remove' ? 'revoked' : undefined, fields!));
}

/** `n` distinct IPv4 addresses (10.x.y.z). */
export function ips(n: number, offset = 0): string[] {
  return Array.from({ length: n }, (_, i) => {
    const k = i + offset + 1;
    return `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;
  });
}
