import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { detectObservable } from '../../src/core/observable.js';
import type { StixObject } from '../../src/core/stix.js';
import { createHttpClient, type ClosableHttpClient } from '../../src/pipeline/http.js';
import { loadSinkMapping, recordsFor } from '../../src/pipeline/sink-records.js';
import type { CommonSinkConfig, IntegrationContext, SinkRecord, SinkRunContext } from '../../src/pipeline/types.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { QradarSimulator, type QradarSimulatorOptions } from './simulator.js';
import type { QradarConfig } from './schema.js';
import { specRecorder } from './openapi-check.js';

/** Shared set-up of the QRadar tests: simulator, run context, sink config, records. */

export const NOW = Date.parse('2026-03-01T12:00:00Z');
export const TOKEN = 'sec-token';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const ictx: IntegrationContext = { logger: silentLogger(), configDir: root, mappingsDir: join(root, 'mappings') };

type After = { after: (fn: () => Promise<void> | void) => void };

/**
 * A simulator whose every exchange is checked against the QRadar 26.0 OpenAPI document (when
 * ../shared/specs is present): the test fails on a request the sink should not send or a response
 * the simulator should not give.
 */
export async function startSim(t: After, opts: QradarSimulatorOptions = {}): Promise<{ sim: QradarSimulator; base: string }> {
  const rec = specRecorder();
  const sim = new QradarSimulator({ tokens: [TOKEN], onExchange: rec.hook, ...opts });
  const { base } = await sim.start();
  t.after(async () => {
    await sim.close();
    if (rec.problems().length) throw new Error(`exchanges not in the QRadar 26.0 OpenAPI document:\n${rec.problems().join('\n')}`);
  });
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
    { component: 'qradar-test' },
  );
  t.after(() => http.close());
  return { id: 'qradar-test', logger: silentLogger(), http, signal: new AbortController().signal, now: NOW };
}

export function config(url: string, over: Partial<QradarConfig & CommonSinkConfig> = {}): QradarConfig & CommonSinkConfig {
  return {
    type: 'qradar', enabled: true, max_tlp: 'amber', timeout_secs: 10, allow_private: true, allow_insecure: true, verify_tls: true,
    filters: { types: [], min_score: 0, labels: [], exclude_labels: [], sources: [] },
    retry: { max_attempts: 3, base_delay_secs: 0.001, max_delay_secs: 0.01 },
    url, token: TOKEN, api_version: 'auto', api: 'auto', set_prefix: 'stixgate - ', sets: {}, chunk_size: 1000, adaptive_chunking: false,
    task_timeout_secs: 30, delete_concurrency: 4,
    ...over,
  } as QradarConfig & CommonSinkConfig;
}

/** An indicator as the store holds it (score, sources) for one raw value. */
export function indicator(value: string, score: number | null = 80): StixObject {
  const r = detectObservable(value);
  if (!r.ok) throw new Error(`not an observable: ${value}`);
  const now = new Date(NOW - 60_000).toISOString();
  return {
    ...indicatorFromObservable(r.observable, { now, name: `bad ${value}` }),
    x_stixgate: { ...(score === null ? {} : { score }), sources: { feed_a: { first_seen: now, last_seen: now } } },
  } as StixObject;
}

let fields: Record<string, string> | undefined;

/** The records the engine would build for these values with mappings/sinks/qradar.yaml. */
export function records(values: string[], op: 'upsert' | 'remove' = 'upsert'): SinkRecord[] {
  fields ??= loadSinkMapping(join(ictx.mappingsDir, 'sinks', 'qradar.yaml')).fields;
  return values.flatMap((v, i) => recordsFor(indicator(v), i + 1, op, op === 'remove' ? 'revoked' : undefined, fields!));
}

/** `n` distinct IPv4 addresses (10.x.y.z). */
export function ips(n: number, offset = 0): string[] {
  return Array.from({ length: n }, (_, i) => {
    const k = i + offset + 1;
    return `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;
  });
}
