import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { QradarSimulator } from '../../integrations/qradar/simulator.js';
import { SplunkSimulator } from '../../integrations/splunk/simulator.js';
import { XsoarSimulator, type XsoarSimulatorOptions } from '../../integrations/xsoar/simulator.js';

/**
 * The start of the end-to-end tests that push through a daemon to every sink product: Splunk,
 * XSOAR and QRadar simulators on 127.0.0.1 and a fresh temporary folder, gone when the test ends;
 * and the `sinks:` section that points Splunk KV, Splunk ES, XSOAR and QRadar sinks at them.
 */

export const QRADAR_TOKEN = 'sec-1';

export interface FourSims {
  splunk: SplunkSimulator;
  xsoar: XsoarSimulator;
  qradar: QradarSimulator;
  bases: { splunk: string; xsoar: string; qradar: string };
  dir: string;
}

export async function startFourSims(
  t: TestContext,
  prefix: string,
  xsoarKeys: XsoarSimulatorOptions['keys'],
): Promise<FourSims> {
  const splunk = new SplunkSimulator();
  const xsoar = new XsoarSimulator({ keys: xsoarKeys });
  const qradar = new QradarSimulator({ tokens: [QRADAR_TOKEN] });
  const bases = {
    splunk: (await splunk.start()).base,
    xsoar: (await xsoar.start()).base,
    qradar: (await qradar.start()).base,
  };
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(async () => {
    await Promise.all([splunk.close(), xsoar.close(), qradar.close()]);
    rmSync(dir, { recursive: true, force: true });
  });
  return { splunk, xsoar, qradar, bases, dir };
}

/**
 * The `sinks:` section: `kv` (Splunk KV), `es` (Splunk ES), `xsoar` and `qradar` on the simulators
 * at `bases`, loopback allowed, pushed every `intervalSecs`; `xsoar` holds the XSOAR sink's own
 * keys (its `api_key` at least).
 */
export function fourSinksYaml(bases: FourSims['bases'], o: { intervalSecs: number; xsoar: string[] }): string {
  const loop = ['allow_private: true', 'allow_insecure: true', `interval_secs: ${o.intervalSecs}`];
  const sink = (name: string, lines: string[]) => [`  ${name}:`, ...[...lines, ...loop].map((l) => `    ${l}`)];
  const splunkAuth = 'auth: { username: admin, password: changeme }';
  return [
    'sinks:',
    ...sink('kv', ['type: splunk_kv', `url: ${bases.splunk}`, splunkAuth]),
    ...sink('es', ['type: splunk_es', `url: ${bases.splunk}`, splunkAuth]),
    ...sink('xsoar', ['type: xsoar', `url: ${bases.xsoar}`, ...o.xsoar]),
    ...sink('qradar', ['type: qradar', `url: ${bases.qradar}`, `token: ${QRADAR_TOKEN}`]),
    '',
  ].join('\n');
}
