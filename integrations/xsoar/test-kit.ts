import type { StixObject } from '../../src/core/stix.js';
import type { CommonSinkConfig, SinkRecord } from '../../src/delivery/types.js';
import {
  commonConfig,
  indicator,
  mappedRecords,
  runContext as sinkRunContext,
  type After,
} from '../../test/helpers/sink-kit.js';
import { XsoarSimulator, type XsoarSimulatorOptions } from './simulator.js';
import type { XsoarConfig } from './schema.js';

/** Shared set-up of the XSOAR tests: simulator, run context, sink config, records. */

export { NOW, ictx, indicator, ips } from '../../test/helpers/sink-kit.js';
export const KEY = 'sim-key';
export const ADV_KEY = 'adv-secret-key';

export async function startSim(
  t: After,
  opts: XsoarSimulatorOptions = {},
): Promise<{ sim: XsoarSimulator; base: string }> {
  const sim = new XsoarSimulator({
    keys: [
      { key: KEY, id: 1 },
      { key: ADV_KEY, id: 2, type: 'advanced' },
    ],
    tenants: ['acme'],
    ...opts,
  });
  const { base } = await sim.start();
  t.after(() => sim.close());
  return { sim, base };
}

/** A run context whose HttpClient does not retry (the tests see each failure). */
export const runContext = (t: After, over: { totalTimeoutMs?: number } = {}) => sinkRunContext(t, 'xsoar-test', over);

export function config(
  url: string,
  over: Partial<XsoarConfig & CommonSinkConfig> = {},
): XsoarConfig & CommonSinkConfig {
  return {
    ...commonConfig('xsoar'),
    url,
    api_key: KEY,
    version: 6,
    key_type: 'standard',
    max_batch_size: 2000,
    search_chunk: 200,
    source_brand: 'stixgate',
    source_instance: 'stixgate',
    verdict: { bad: 75, suspicious: 40 } as XsoarConfig['verdict'],
    fields_via: 'feed',
    pin_verdict: false,
    bypass_exclusion_list: false,
    default_expiration: 'indicatorType',
    ...over,
  } as XsoarConfig & CommonSinkConfig;
}

/** The records the engine would build for these values with mappings/sinks/xsoar.yaml. */
export function records(
  values: string[],
  op: 'upsert' | 'remove' = 'upsert',
  score: number | null = 80,
  extra: Partial<StixObject> = {},
): SinkRecord[] {
  return mappedRecords(
    'xsoar',
    values.map((v) => indicator(v, score, extra)),
    op,
  );
}
