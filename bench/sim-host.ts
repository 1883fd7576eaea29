/**
 * Runs one vendor simulator in its own process for the push benchmarks (so that it does not share
 * the sink's event loop): `sim-host.ts NAME OPTIONS_JSON` prints the base URL on stdout and serves
 * until stdin closes. Extra options (Splunk): `kvDelayMs`, every KV data request waits that long;
 * `kv503EveryMs`, every so many ms the next KV data request answers 503 with Retry-After 0.
 */
import { SplunkSimulator } from '../integrations/splunk/simulator.js';
import { QradarSimulator } from '../integrations/qradar/simulator.js';
import { XsoarSimulator } from '../integrations/xsoar/simulator.js';

const [name, json] = process.argv.slice(2);
const opts = JSON.parse(json ?? '{}') as Record<string, unknown>;
let sim: { start(): Promise<{ base: string }>; close(): Promise<void> };
if (name === 'splunk') {
  const s = new SplunkSimulator(opts);
  const delay = Number(opts.kvDelayMs ?? 0);
  const every = Number(opts.kv503EveryMs ?? 0);
  if (delay) s.inject({ target: 'kv', delayMs: delay, times: Number.MAX_SAFE_INTEGER });
  // an occasional 503 ahead of the standing delay (the simulator takes the first matching fault)
  if (every) setInterval(() => s.inject({ target: 'kv', status: 503, retryAfter: 0 }, { first: true }), every).unref();
  sim = s;
} else if (name === 'qradar') sim = new QradarSimulator(opts);
else if (name === 'xsoar') sim = new XsoarSimulator(opts);
else throw new Error(`unknown simulator ${name}`);
const { base } = await sim.start();
process.stdout.write(`${base}\n`);
process.stdin.resume();
process.stdin.on('end', () => void sim.close().then(() => process.exit(0)));
