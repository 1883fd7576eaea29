import type { CommonSinkConfig, SinkRecord } from '../../src/delivery/types.js';
import {
  commonConfig,
  indicator,
  mappedRecords,
  runContext as sinkRunContext,
  type After,
} from '../../test/helpers/sink-kit.js';
import { QradarSimulator, type Exchange, type QradarSimulatorOptions } from './simulator.js';
import type { QradarConfig } from './schema.js';
import { specRecorder } from './openapi-check.js';

/** Shared set-up of the QRadar tests: simulator, run context, sink config, records. */

export { NOW, ictx, indicator, ips } from '../../test/helpers/sink-kit.js';
export const TOKEN = 'sec-token';

/**
 * A simulator whose every exchange is checked against the QRadar 26.0 OpenAPI document (when
 * ../shared/specs is present): the test fails on a request the sink should not send or a response
 * the simulator should not give.
 */
export async function startSim(
  t: After,
  opts: QradarSimulatorOptions = {},
): Promise<{ sim: QradarSimulator; base: string }> {
  const rec = specRecorder();
  const unversioned: string[] = [];
  const onExchange = (x: Exchange): void => {
    rec.hook?.(x);
    // without a Version header QRadar serves its newest API, which "might break integrations"
    // (IBM's QRadar REST API documentation): the sink sends one everywhere but on the version discovery itself
    if (!('version' in x.headers) && !(x.method === 'GET' && x.path === '/api/help/versions'))
      unversioned.push(`${x.method} ${x.path}`);
  };
  const sim = new QradarSimulator({ tokens: [TOKEN], onExchange, ...opts });
  const { base } = await sim.start();
  t.after(async () => {
    await sim.close();
    if (rec.problems().length)
      throw new Error(`exchanges not in the QRadar 26.0 OpenAPI document:\n${rec.problems().join('\n')}`);
    if (unversioned.length) throw new Error(`requests sent without a Version header:\n${unversioned.join('\n')}`);
  });
  return { sim, base };
}

/** A run context whose HttpClient does not retry (the tests see each failure). */
export const runContext = (t: After, over: { totalTimeoutMs?: number } = {}) => sinkRunContext(t, 'qradar-test', over);

export function config(
  url: string,
  over: Partial<QradarConfig & CommonSinkConfig> = {},
): QradarConfig & CommonSinkConfig {
  return {
    ...commonConfig('qradar'),
    url,
    token: TOKEN,
    api_version: 'auto',
    api: 'auto',
    set_prefix: 'stixgate - ',
    sets: {},
    chunk_size: 1000,
    adaptive_chunking: false,
    task_timeout_secs: 30,
    delete_concurrency: 4,
    ...over,
  } as QradarConfig & CommonSinkConfig;
}

/** The records the engine would build for these values with mappings/sinks/qradar.yaml. */
export function records(values: string[], op: 'upsert' | 'remove' = 'upsert'): SinkRecord[] {
  return mappedRecords(
    'qradar',
    values.map((v) => indicator(v)),
    op,
  );
}
