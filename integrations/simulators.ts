import { randomUUID } from 'node:crypto';
import { SplunkSimulator } from './splunk/simulator.js';
import { XsoarSimulator } from './xsoar/simulator.js';
import { QradarSimulator } from './qradar/simulator.js';

/**
 * The vendor simulators `stixgate simulate` starts on loopback, with the sink entries that point
 * at them. Each entry is the whole configuration a user needs to try the push path without a
 * vendor account; tests use the simulators directly.
 */
export interface RunningSimulator {
  name: string;
  base: string;
  /** Sink entries (`sinks:` in the YAML) for this simulator. */
  sinks: Record<string, Record<string, unknown>>;
  /** Human notes: credentials, inspection endpoints. */
  notes: string[];
  close(): Promise<void>;
}

export interface SimulatorEntry {
  name: string;
  /** Starts on 127.0.0.1:`port` (default a free port). */
  start(port?: number): Promise<RunningSimulator>;
}

const LOOPBACK = { allow_private: true, allow_insecure: true };

export const simulators: SimulatorEntry[] = [
  {
    name: 'splunk',
    async start(port = 0) {
      const hecToken = randomUUID();
      const sim = new SplunkSimulator({ hecTokens: { [hecToken]: { useAck: true } } });
      const { base } = await sim.start(port);
      const auth = { username: 'admin', password: 'changeme' };
      return {
        name: 'splunk',
        base,
        sinks: {
          splunk_kv: { type: 'splunk_kv', url: base, auth, ...LOOPBACK },
          splunk_es: { type: 'splunk_es', url: base, auth, ...LOOPBACK },
          splunk_hec: {
            type: 'splunk_hec',
            url: base,
            token: hecToken,
            use_ack: true,
            ack_poll_interval_ms: 200,
            ...LOOPBACK,
          },
        },
        notes: [`Splunk management API and HEC on ${base} (admin/changeme); state: GET ${base}/__sim/state`],
        close: () => sim.close(),
      };
    },
  },
  {
    name: 'xsoar',
    async start(port = 0) {
      const key = `sim-${randomUUID()}`;
      const sim = new XsoarSimulator({ keys: [{ key, id: 7, type: 'advanced' }] });
      const { base } = await sim.start(port);
      return {
        name: 'xsoar',
        base,
        sinks: {
          xsoar: { type: 'xsoar', url: base, version: 8, auth_id: 7, api_key: key, key_type: 'advanced', ...LOOPBACK },
        },
        notes: [`Cortex XSOAR 8 on ${base} (advanced API key id 7: ${key}); state: GET ${base}/__sim/state`],
        close: () => sim.close(),
      };
    },
  },
  {
    name: 'qradar',
    async start(port = 0) {
      const token = randomUUID();
      const sim = new QradarSimulator({ tokens: [token] });
      const { base } = await sim.start(port);
      return {
        name: 'qradar',
        base,
        sinks: { qradar: { type: 'qradar', url: base, token, ttl_days: 30, ...LOOPBACK } },
        notes: [`QRadar REST API 26.0 on ${base}/api (SEC token ${token}); state: GET ${base}/__sim/state`],
        close: () => sim.close(),
      };
    },
  },
];
