import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { detectObservable } from '../../src/core/observable.js';
import type { StixObject } from '../../src/core/stix.js';
import type { ClosableHttpClient } from '../../src/http/client.js';
import { loadSinkMapping } from '../../src/delivery/records.js';
import { tlpOfExtra, viewRecords } from '../../test/helpers/sink-kit.js';
import type { CommonSinkConfig, SinkRecord, SinkRunContext } from '../../src/delivery/types.js';
import type { IntegrationContext } from '../../src/pipeline/types.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { SplunkSimulator, type SplunkSimulatorOptions } from './simulator.js';
import { must } from '../../test/helpers/must.js';
import { loopbackHttp } from '../../test/helpers/loopback-http.js';

/** Shared set-up of the Splunk sink tests (and the throughput script): simulator, context, records. */

export const HEC_TOKEN = '11111111-2222-3333-4444-555555555555';
export const HEC_ACK_TOKEN = '99999999-2222-3333-4444-555555555555';
export const JWT = 'jwt-test';
export const NOW = Date.parse('2026-03-01T12:00:00Z');

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const ictx: IntegrationContext = {
  logger: silentLogger(),
  configDir: root,
  mappingsDir: join(root, 'mappings'),
};

type After = { after: (fn: () => Promise<void> | void) => void };

export async function startSim(
  t: After,
  opts: SplunkSimulatorOptions = {},
): Promise<{ sim: SplunkSimulator; base: string }> {
  const sim = new SplunkSimulator({
    bearerTokens: [JWT],
    hecTokens: { [HEC_TOKEN]: { indexes: ['threat_intel'] }, [HEC_ACK_TOKEN]: { useAck: true } },
    ...opts,
  });
  const { base } = await sim.start();
  t.after(() => sim.close());
  return { sim, base };
}

export interface TestContext extends SinkRunContext {
  http: ClosableHttpClient;
  gauges: number[];
}

/** A run context whose HttpClient does not retry (the tests see each failure), timeouts short. */
export function runContext(t: After, over: { totalTimeoutMs?: number; maxAttempts?: number } = {}): TestContext {
  const http = loopbackHttp('splunk-test', {
    totalTimeoutMs: over.totalTimeoutMs ?? 10_000,
    maxBytes: 64 << 20,
    retry: { maxAttempts: over.maxAttempts ?? 1, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 60_000 },
  });
  t.after(() => http.close());
  const gauges: number[] = [];
  return {
    id: 'splunk-test',
    logger: silentLogger(),
    http,
    signal: new AbortController().signal,
    now: NOW,
    gauge: (_n, v) => void gauges.push(v),
    gauges,
  };
}

export function commonConfig(type: string, over: Partial<CommonSinkConfig> = {}): CommonSinkConfig {
  return {
    type,
    enabled: true,
    max_tlp: 'amber',
    timeout_secs: 10,
    allow_private: true,
    allow_insecure: true,
    verify_tls: true,
    filters: { types: [], min_score: 0, labels: [], exclude_labels: [], sources: [] },
    retry: { max_attempts: 3, base_delay_secs: 0.001, max_delay_secs: 0.01 },
    ...over,
  };
}

/** An indicator as the store holds it (score, sources) for one raw value. */
export function indicator(value: string, score = 80, extra: Partial<StixObject> = {}): StixObject {
  const r = detectObservable(value);
  if (!r.ok) throw new Error(`not an observable: ${value}`);
  const now = new Date(NOW - 60_000).toISOString();
  return {
    ...indicatorFromObservable(r.observable, { now, name: `bad ${value}` }),
    x_stixgate: { score, sources: { feed_a: { first_seen: now, last_seen: now, tlp: tlpOfExtra(extra) } } },
    ...extra,
  };
}

const mappings = new Map<string, Record<string, string>>();

/** The records the engine would build for these values with the sink type's default mapping table. */
export function records(
  type: string,
  values: string[],
  op: 'upsert' | 'remove' = 'upsert',
  score = 80,
  seq = 1,
): SinkRecord[] {
  let m = mappings.get(type);
  if (!m) {
    m = loadSinkMapping(join(ictx.mappingsDir, 'sinks', `${type}.yaml`)).fields;
    mappings.set(type, m);
  }
  return values.flatMap((v, i) => viewRecords(indicator(v, score), seq + i, op, must(m, 'm')));
}

/** `n` distinct IPv4 addresses (10.x.y.z). */
export function ips(n: number, offset = 0): string[] {
  return Array.from({ length: n }, (_, i) => {
    const k = i + offset + 1;
    return `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;
  });
}
