import { join } from 'node:path';
import type { ClosableHttpClient } from '../../src/http/client.js';
import { loadSinkMapping } from '../../src/delivery/records.js';
import {
  type After,
  commonConfig,
  ictx,
  indicator,
  runContext as sinkRunContext,
  viewRecords,
} from '../../test/helpers/sink-kit.js';
import type { CommonSinkConfig, SinkRecord, SinkRunContext } from '../../src/delivery/types.js';
import type { SplunkKvConfig } from './schema.js';
import { SplunkSimulator, type SplunkSimulatorOptions } from './simulator.js';
import { must } from '../../test/helpers/must.js';

/** Shared set-up of the Splunk sink tests (and the throughput script): simulator, context, records. */

export const HEC_TOKEN = '11111111-2222-3333-4444-555555555555';
export const HEC_ACK_TOKEN = '99999999-2222-3333-4444-555555555555';
export const JWT = 'jwt-test';
export { NOW, commonConfig, ictx, indicator } from '../../test/helpers/sink-kit.js';

/**
 * A KV sink's config on the simulator at `base`: the token JWT, app `stixgate`, collection `ti`,
 * batch_save of 1,000, deletes of 50 keys, no type enforcement or replication (`over` replaces keys).
 */
export function kvConfig(base: string, over: Partial<SplunkKvConfig> = {}): SplunkKvConfig & CommonSinkConfig {
  return {
    ...commonConfig('splunk_kv'),
    url: base,
    auth: { bearer_token: JWT },
    owner: 'nobody',
    app: 'stixgate',
    collection: 'ti',
    max_documents_per_batch_save: 1000,
    max_keys_per_delete: 50,
    enforce_types: false,
    replicate: false,
    ...over,
  };
}

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

/** A run context whose HttpClient does not retry (the tests see each failure), timeouts short; it records the gauges the sink reports. */
export function runContext(t: After, over: { totalTimeoutMs?: number; maxAttempts?: number } = {}): TestContext {
  const gauges: number[] = [];
  return { ...sinkRunContext(t, 'splunk-test', over), gauge: (_n, v) => void gauges.push(v), gauges };
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
